/**
 * Runs detector passes on DETECTOR_SCHEDULE with croner. The seed's schedule was
 * silently dead because of a typo in its options; here the options are a typed
 * literal (a typo does not compile), the job is built at start-up and checked to
 * have a next run (so start-up fails instead of never running), `protect` keeps a
 * slow pass from overlapping the next, and an error in a pass is logged, never thrown.
 */
import { Cron, type CronOptions } from 'croner';
import type { Logger } from 'pino';

export interface DetectorSchedule {
  readonly expression: string;
  /** When the next pass is due, or null once stopped. */
  nextRun(): Date | null;
  /** True while a scheduled pass runs. */
  busy(): boolean;
  stop(): void;
}

export interface DetectorScheduleOptions {
  expression: string;
  run: () => Promise<unknown>;
  log: Logger;
  /** What it runs, in its log lines and errors (default: the passes, 'detector pass', of DETECTOR_SCHEDULE). */
  what?: { name: string; variable: string };
}

export function startDetectorSchedule(opts: DetectorScheduleOptions): DetectorSchedule {
  const { log } = opts;
  const { name, variable } = opts.what ?? { name: 'detector pass', variable: 'DETECTOR_SCHEDULE' };
  const options: CronOptions = {
    // Never two passes at once: a pass still running when the next is due makes that one skip.
    protect: (job) => log.warn({ startedAt: job.currentRun()?.toISOString() }, `previous ${name} still running; skipping this one`),
    // The pass logs its own failure below; this only catches what escapes it.
    catch: (err) => log.error({ err }, `${name} crashed`),
    // The schedule alone must not keep the process alive.
    unref: true,
  };
  const job = new Cron(opts.expression, options, async () => {
    try {
      await opts.run();
    } catch (err) {
      if ((err as Error)?.name === 'DetectorStopping') log.info(`${name} cut short: the server is stopping`);
      else log.error({ err }, `${name} failed; the next scheduled one tries again`);
    }
  });
  if (job.nextRun() === null) {
    job.stop();
    throw new Error(`${variable}=${opts.expression} never fires; expected a cron expression with a future run, like "* * * * *"`);
  }
  log.info({ schedule: opts.expression, nextRun: job.nextRun()?.toISOString() }, `${name} schedule started`);
  return {
    expression: opts.expression,
    nextRun: () => job.nextRun(),
    busy: () => job.isBusy(),
    stop: () => job.stop(),
  };
}
