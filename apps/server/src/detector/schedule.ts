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
}

export function startDetectorSchedule(opts: DetectorScheduleOptions): DetectorSchedule {
  const { log } = opts;
  const options: CronOptions = {
    // Never two passes at once: a pass still running when the next is due makes that one skip.
    protect: (job) => log.warn({ startedAt: job.currentRun()?.toISOString() }, 'previous detector pass still running; skipping this one'),
    // The pass logs its own failure below; this only catches what escapes it.
    catch: (err) => log.error({ err }, 'detector pass crashed'),
    // The schedule alone must not keep the process alive.
    unref: true,
  };
  const job = new Cron(opts.expression, options, async () => {
    try {
      await opts.run();
    } catch (err) {
      if ((err as Error)?.name === 'DetectorStopping') log.info('detector pass cut short: the server is stopping');
      else log.error({ err }, 'detector pass failed; the next scheduled pass tries again');
    }
  });
  if (job.nextRun() === null) {
    job.stop();
    throw new Error(`DETECTOR_SCHEDULE=${opts.expression} never fires; expected a cron expression with a future run, like "* * * * *"`);
  }
  log.info({ schedule: opts.expression, nextRun: job.nextRun()?.toISOString() }, 'detector schedule started');
  return {
    expression: opts.expression,
    nextRun: () => job.nextRun(),
    busy: () => job.isBusy(),
    stop: () => job.stop(),
  };
}
