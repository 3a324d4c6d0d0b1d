/**
 * Caps on distinct POPs and functions (MAX_POPS, MAX_FUNCTIONS), for any store: every
 * answer carries every POP and the stores keep a catalog of them, so an unbounded
 * number of POP codes (a bug in an agent, or an attack) would take the service down.
 * Points of POPs and functions already known always write; a body that would bring the
 * count past a cap is refused whole (422) and stores nothing.
 *
 * Known names come from the store's catalog (seenPops / seenFunctions), read once and
 * then refreshed in the background, plus every name admitted here since, so the check
 * is one Set lookup per point and never waits for the store. With other writers on a
 * shared InfluxDB the count can lag by up to the refresh period.
 */
import type { ColdStartSample } from '@edgeworker/schema';
import type { Logger } from 'pino';
import { AppError } from '../http/errors.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';

export interface CardinalityLimits {
  maxPops: number;
  maxFunctions: number;
}

const REFRESH_MS = 60_000;
const NAMED_IN_ERROR = 5;

export function createCardinalityGuard(
  store: Pick<MetricsStore, 'seenPops' | 'seenFunctions'>,
  limits: CardinalityLimits,
  deps: { now: () => number; log: Logger },
) {
  const pops = new Set<string>();
  const functions = new Set<string>();
  let loadedAt: number | undefined;
  let loading: Promise<void> | undefined;

  function refresh(): Promise<void> {
    loading ??= Promise.all([store.seenPops(), store.seenFunctions()])
      .then(([p, f]) => {
        for (const x of p) pops.add(x.popCode);
        for (const x of f) functions.add(x);
      })
      .catch((err) => deps.log.warn({ err }, 'could not read the known POPs and functions; counting the ones written here'))
      .finally(() => {
        loadedAt = deps.now();
        loading = undefined;
      });
    return loading;
  }

  return {
    /**
     * Admits the samples' POPs and functions or throws 422 naming the first new ones.
     * Admitted names count from now on, so concurrent bodies cannot pass a cap together.
     * Returns an undo for when the store then refuses the write.
     */
    async admit(samples: readonly ColdStartSample[]): Promise<() => void> {
      if (loadedAt === undefined) await refresh();
      else if (deps.now() - loadedAt > REFRESH_MS) void refresh();
      let newPops: Set<string> | undefined;
      let newFunctions: Set<string> | undefined;
      for (const s of samples) {
        if (!pops.has(s.popCode)) (newPops ??= new Set()).add(s.popCode);
        if (!functions.has(s.functionName)) (newFunctions ??= new Set()).add(s.functionName);
      }
      if (newPops && pops.size + newPops.size > limits.maxPops) {
        throw tooMany('pops', 'POPs', 'MAX_POPS', newPops, pops.size, limits.maxPops);
      }
      if (newFunctions && functions.size + newFunctions.size > limits.maxFunctions) {
        throw tooMany('functions', 'functions', 'MAX_FUNCTIONS', newFunctions, functions.size, limits.maxFunctions);
      }
      for (const p of newPops ?? []) pops.add(p);
      for (const f of newFunctions ?? []) functions.add(f);
      return () => {
        for (const p of newPops ?? []) pops.delete(p);
        for (const f of newFunctions ?? []) functions.delete(f);
      };
    },
  };
}

function tooMany(code: string, what: string, variable: string, fresh: Set<string>, known: number, max: number) {
  const names = [...fresh].slice(0, NAMED_IN_ERROR).join(', ') + (fresh.size > NAMED_IN_ERROR ? ', …' : '');
  return new AppError(
    `too_many_${code}`,
    `this body brings ${fresh.size} new ${what} (${names}) but ${known} of at most ${max} are known (${variable}); ` +
      `nothing of it was stored. Points of known ${what} are still accepted; raise ${variable} if these are real`,
    422,
  );
}
