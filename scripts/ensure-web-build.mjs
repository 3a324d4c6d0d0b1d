#!/usr/bin/env node
// `npm start` serves the built dashboard; build it first when it is missing or older
// than its sources (a pull brought a new dashboard), so `npm ci && npm start` is enough.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = join(root, 'apps/web');
const index = join(web, 'dist/index.html');

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(web, p)).filter(existsSync);
const reason = !existsSync(index)
  ? 'dashboard not built yet'
  : Math.max(...sources.map(newestMtime)) > statSync(index).mtimeMs
    ? 'dashboard sources changed since the last build'
    : null;
if (reason) {
  process.stderr.write(`edgeworker: ${reason}; building it (npm run build)...\n`);
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('edgeworker: the dashboard build failed; see above. The API would still work: `npm run server`.\n');
    process.exit(r.status ?? 1);
  }
}
