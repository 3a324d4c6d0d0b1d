/** The self-health alert rules, checked and unit-tested with Prometheus' own promtool (Debian package `prometheus`). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DOCS = fileURLToPath(new URL('../../../../docs/', import.meta.url));

it('docs/alerts.yml is valid and its alerts fire as docs/alerts.test.yml expects (promtool)', () => {
  for (const args of [['check', 'rules', 'alerts.yml'], ['test', 'rules', 'alerts.test.yml']]) {
    const r = spawnSync('promtool', args, { cwd: DOCS, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.error, undefined, 'promtool is installed (apt-get install prometheus)');
    assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  }
});
