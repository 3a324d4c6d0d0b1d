#!/usr/bin/env node
// Finds test files by suffix and runs them with Node's own test runner (TypeScript through tsx).
// Node 20 does not expand globs in `node --test`, so the list is built here.
//   node scripts/run-tests.mjs            unit + integration tests (no external service)
//   node scripts/run-tests.mjs services   *.services.test.ts (real InfluxDB / Redis)
//   node scripts/run-tests.mjs e2e        *.e2e.test.ts (real Chromium)
//   extra arguments after the kind are passed to node (e.g. --test-name-pattern=...)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const KINDS = ['unit', 'services', 'e2e'];
const named = KINDS.includes(process.argv[2]);
const kind = named ? process.argv[2] : 'unit';
const extra = process.argv.slice(named ? 3 : 2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const all = [...walk(join(root, 'packages'), []), ...walk(join(root, 'apps'), [])];
const matches = (f) => {
  if (f.endsWith('.services.test.ts')) return kind === 'services';
  if (f.endsWith('.e2e.test.ts')) return kind === 'e2e';
  return kind === 'unit';
};
const files = all.filter(matches).map((f) => relative(root, f)).sort();
if (files.length === 0) {
  console.error(`no ${kind} test files found`);
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-timeout=180000', ...extra, ...files];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
