/**
 * Child process of bench/generator-cpu.ts: the standalone generator exactly as
 * `npm run generator` wires it (model → generator → buffered writer → HTTP sink),
 * writing to the URL in argv[2] at the default rate for argv[3] ms. It prints one JSON
 * line: its own CPU time (process.cpuUsage) over that period, from just before the
 * first tick, and the writer's figures. The start-up (module loading) is not counted.
 */
import { pino } from 'pino';
import { parseCliArgs } from '../../apps/generator/src/cli-args.ts';
import { startContinuous } from '../../apps/generator/src/cli-run.ts';

const [target, periodText] = process.argv.slice(2);
const parsed = parseCliArgs(['--target', target!, '--seed', '7', '--log-level', 'silent'], {}, Date.now());
if (parsed.help) throw new Error('unexpected --help');
const log = pino({ level: 'silent' });
const c0 = process.cpuUsage();
const t0 = performance.now();
const running = await startContinuous(parsed.config, log);
await new Promise((r) => setTimeout(r, Number(periodText)));
const cpu = process.cpuUsage(c0);
const wallMs = performance.now() - t0;
const code = await running.stop();
process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs, intervalMs: parsed.config.intervalMs, pops: parsed.config.pops.length, code })}\n`);
