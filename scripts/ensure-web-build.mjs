#!/usr/bin/env node
// `npm start` serves the built dashboard; build it first when it is missing, so a
// fresh clone needs only `npm ci && npm start`.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const index = new URL('../apps/web/dist/index.html', import.meta.url);
if (!existsSync(index)) {
  process.stderr.write('edgeworker: dashboard not built yet; building it once (npm run build)...\n');
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('edgeworker: the dashboard build failed; see above. The API would still work: `npm run server`.\n');
    process.exit(r.status ?? 1);
  }
}
