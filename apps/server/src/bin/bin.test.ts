import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe('server entry points', () => {
  for (const entry of ['server.ts', 'all-in-one.ts']) {
    it(`${entry} refuses a bad variable with one line and exit code 2`, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', `apps/server/src/bin/${entry}`], {
        cwd: root,
        env: { ...process.env, GENERATOR_INTERVAL_MS: 'often' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trim(), 'edgeworker: configuration error: GENERATOR_INTERVAL_MS=often is invalid: expected an integer from 100 to 2147483647');
    });
  }
});
