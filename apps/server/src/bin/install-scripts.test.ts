/**
 * `npm ci` on a fresh machine is quiet and reproducible: every installed dependency
 * with an install script is reviewed in package.json's allowScripts (npm 11 warns at
 * the end of the install otherwise, and skips the script).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe('install scripts', () => {
  it('leaves no installed install script unreviewed in allowScripts', { skip: Number(spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.split('.')[0]) < 11 && 'allowScripts needs npm 11' }, () => {
    const r = spawnSync('npm', ['install-scripts', 'ls', '--json'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const pending = (JSON.parse(r.stdout) as { allowScripts: Array<{ name: string }> }).allowScripts;
    assert.deepEqual(pending.map((p) => p.name), [], `not covered by allowScripts: ${r.stdout}`);
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { allowScripts?: Record<string, boolean> };
    assert.equal(pkg.allowScripts?.esbuild, true, "esbuild's postinstall (it links the native binary it ships) is approved");
  });
});
