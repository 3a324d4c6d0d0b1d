import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { sample } from '../stores/metrics-store.contract.ts';
import { AppError } from '../http/errors.ts';
import { createCardinalityGuard } from './cardinality.ts';
import { waitFor } from '../testing/wait.ts';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('cardinality caps', () => {
  it('counts the POPs and functions the store already holds (e.g. after a restart), and undoes an admission the store refused', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ewm-cardinality-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const store = await createDuckDbMetricsStore({ path: join(dir, 'metrics.duckdb') });
    t.after(() => store.close());
    await store.write(['AAA', 'BBB', 'CCC'].map((popCode, i) => sample({ t: T0 + i, v: 1, popCode })));

    let clock = 0;
    const log = pino({ level: 'silent' });
    const pop = (...codes: string[]) => codes.map((popCode) => sample({ t: T0, v: 1, popCode }));
    const refused = (code: string) => (err: unknown) => err instanceof AppError && err.statusCode === 422 && err.code === code;
    const guard = createCardinalityGuard(store, { maxPops: 5, maxFunctions: 1 }, { now: () => clock, log });
    await guard.admit(pop('AAA'));
    await assert.rejects(guard.admit(pop('DDD', 'EEE', 'FFF')), refused('too_many_pops'));
    await assert.rejects(guard.admit([sample({ t: T0, v: 1, functionName: 'other' })]), refused('too_many_functions'));
    // Admitted, then refused by the store: the slots are free again.
    const undo = await guard.admit(pop('DDD'));
    await assert.rejects(guard.admit(pop('EEE', 'FFF')), refused('too_many_pops'));
    undo();
    await guard.admit(pop('EEE', 'FFF'));

    // Names written by others count from the next refresh on.
    const other = createCardinalityGuard(store, { maxPops: 4, maxFunctions: 1 }, { now: () => clock, log });
    await other.admit(pop('AAA'));
    await store.write(pop('ZZZ'));
    clock += 61_000;
    await other.admit(pop('AAA')); // starts the refresh in the background
    // Until the refresh lands DDD fits (and is handed back); then it is one too many.
    await waitFor(() => other.admit(pop('DDD')).then((undoIt) => void undoIt(), refused('too_many_pops')), 5000, 'ZZZ to count');
  });

  it('counts the series the store holds within the window (after a restart too), and a series no longer reporting frees its slot', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ewm-cardinality-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const store = await createDuckDbMetricsStore({ path: join(dir, 'metrics.duckdb') });
    t.after(() => store.close());
    const H = 3_600_000;
    const at = (t: number, popCode: string, functionName = 'ssr-render') => sample({ t, v: 1, popCode, functionName });
    await store.write([at(T0, 'AAA'), at(T0, 'BBB'), at(T0, 'AAA', 'auth-check')]);

    let clock = T0 + 1000;
    const log = pino({ level: 'silent' });
    const refused = (err: unknown) => err instanceof AppError && err.statusCode === 422 && err.code === 'too_many_series';
    const guard = createCardinalityGuard(store, { maxPops: 100, maxFunctions: 100, maxSeries: 3, seriesWindowMs: H }, { now: () => clock, log });
    await guard.admit([at(T0 + 1000, 'AAA')]);
    await assert.rejects(guard.admit([at(T0 + 1000, 'BBB', 'auth-check')]), refused);
    // Older than the window: history, not a series reporting now.
    await guard.admit([at(T0 - 2 * H, 'CCC')]);
    // An hour and more later the stored series have left the window: once the refresh lands, slots are free.
    clock = T0 + 2 * H;
    await waitFor(() => guard.admit([at(clock, 'DDD'), at(clock, 'EEE'), at(clock, 'FFF')]).then(() => true, (err) => (refused(err) ? false : Promise.reject(err))), 5000, 'the old series to leave the window');
    await assert.rejects(guard.admit([at(clock, 'GGG')]), refused);
  });
});
