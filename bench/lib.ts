/**
 * Shared by the bench modules: one row shape, the table printer and the JS thread's CPU.
 * Each topic lives in its own `bench/<topic>.ts` exporting `run(): Promise<BenchRow[]>`; `bench/run.ts`
 * runs them in one process, one after the other, so every ratio is measured beside its
 * anchor in the same run (these machines are noisy: compare ratios, not times).
 */
import { readFileSync } from 'node:fs';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, measured in the same run (influxd, a bare ws or Fastify server…). */
  anchor?: { name: string; value: number };
  /** value / anchor.value (or the inverse, as the goal says). */
  ratio?: number;
  goal?: string;
  ok?: boolean;
}

export type BenchModule = { run: () => Promise<BenchRow[]> };

export function percentile(xs: number[], q: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export function printTable(rows: BenchRow[]) {
  const w = Math.max(9, ...rows.map((r) => r.name.length));
  const aw = Math.max(6, ...rows.map((r) => (r.anchor ? `${r.anchor.name} ${fmt(r.anchor.value)}` : '').length));
  console.log(`${'benchmark'.padEnd(w)}  ${'value'.padStart(12)}  ${'unit'.padEnd(9)}  ${'anchor'.padEnd(aw)}  ${'ratio'.padStart(7)}  ${'goal'.padEnd(12)}  ok`);
  for (const r of rows) {
    const anchor = r.anchor ? `${r.anchor.name} ${fmt(r.anchor.value)}` : '';
    console.log(
      `${r.name.padEnd(w)}  ${fmt(r.value).padStart(12)}  ${r.unit.padEnd(9)}  ${anchor.padEnd(aw)}  ${(r.ratio === undefined ? '' : r.ratio.toFixed(2)).padStart(7)}  ${(r.goal ?? '').padEnd(12)}  ${r.ok === undefined ? '' : r.ok ? 'yes' : 'NO'}`,
    );
  }
}

function fmt(v: number) {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 10) / 10);
}

/** For a module run on its own: `tsx bench/<topic>.ts`. */
export async function runAlone(mod: BenchModule, url: string) {
  if (process.argv[1] && url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)) {
    printTable(await mod.run());
  }
}

/**
 * CPU of the JS (main) thread alone, in ms: utime + stime of the task whose id is the pid, from
 * /proc (clock ticks at USER_HZ 100); NaN where there is no /proc. process.cpuUsage counts every
 * thread (DuckDB's, libuv's), so this says how much of a pass could run beside the JS thread.
 */
export function jsThreadCpuMs(): number {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}
