import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { preload, startBenchApp } from './start-app.ts';
const bench = await startBenchApp();
await preload(bench.base, 6);
const body = await (await fetch(bench.base + '/api/dashboard/overview')).json();
const Fastify = (await import('fastify')).default;
const bare = Fastify(); bare.get('/api/dashboard/overview', async () => body); await bare.listen({ port: 0, host: '127.0.0.1' });
const target = process.env.BARE ? `http://127.0.0.1:${(bare.server.address() as any).port}` : bench.base;
const { Session } = await import('node:inspector/promises');
const s = new Session(); s.connect();
await s.post('Profiler.enable'); await s.post('Profiler.start');
await new Promise<void>((resolve) => {
  const { execFile } = require_('node:child_process');
  execFile(process.execPath, [createRequire(import.meta.url).resolve('autocannon/autocannon.js'), '-c', '100', '-d', '5', target + '/api/dashboard/overview'], (e: unknown, out: string, err: string) => { console.log(out.split('\n').slice(-4).join(' '), err.split('\n').slice(-4).join(' ')); resolve(); });
});
function require_(m: string) { return createRequire(import.meta.url)(m); }
const { profile } = await s.post('Profiler.stop');
(await import('node:fs')).writeFileSync(process.env.BARE ? '/tmp/prof/bare.cpuprofile' : '/tmp/prof/product.cpuprofile', JSON.stringify(profile));
await bench.stop();
void execFileSync;
