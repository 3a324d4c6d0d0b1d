/**
 * A process for the signal tests: stopOnSignals around a stop that takes STOP_MS,
 * logging as the servers do. Prints "ready" once its handlers are installed.
 */
import { stopOnSignals } from '../bin/run.ts';

const stopMs = Number(process.env.STOP_MS ?? 1000);
const graceMs = Number(process.env.GRACE_MS ?? 3000);
const line = (o: object, msg: string) => process.stdout.write(`${JSON.stringify({ ...o, msg })}\n`);
const log = { info: line, warn: line, error: line };
stopOnSignals(async () => {
  await new Promise((r) => setTimeout(r, stopMs));
  line({}, 'shutdown complete');
}, log, graceMs);
setInterval(() => undefined, 1000);
line({}, 'ready');
