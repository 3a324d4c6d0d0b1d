/**
 * CPU of the standalone generator at the default rate (423 POPs × 5 functions every
 * 10 s): a child process runs it for PERIOD_MS against the real server (in this
 * process) and reports its own process.cpuUsage; the figure is that CPU time as a
 * share of one core over the period.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runAlone, type BenchRow } from './lib.ts';
import { startBenchApp } from './start-app.ts';

const PERIOD_MS = 30_000; // three ticks at the default 10 s interval
const CHILD = fileURLToPath(new URL('./child/generator-cpu.ts', import.meta.url));

export async function run(): Promise<BenchRow[]> {
  const bench = await startBenchApp();
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, `${bench.base}/write?db=edgeworker`, String(PERIOD_MS)], {
      timeout: PERIOD_MS + 60_000,
    });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { cpuMs: number; wallMs: number; intervalMs: number; pops: number; code: number };
    if (r.code !== 0) throw new Error('the generator did not write every sample');
    // It really wrote: three ticks of every POP × function are in the store.
    const overview = (await (await fetch(`${bench.base}/api/dashboard/overview?window=5m`)).json()) as { samples: number };
    if (overview.samples < 3 * r.pops * 5) throw new Error(`only ${overview.samples} samples stored`);
    const share = (100 * r.cpuMs) / r.wallMs;
    return [
      {
        name: `generator CPU, ${r.pops} POPs × 5 functions every ${r.intervalMs / 1000} s`,
        value: Math.round(share * 100) / 100,
        unit: '% core',
        goal: '< 5',
        ok: share < 5,
      },
    ];
  } finally {
    await bench.stop();
  }
}

await runAlone({ run }, import.meta.url);
