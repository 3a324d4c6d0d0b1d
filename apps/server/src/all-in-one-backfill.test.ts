/**
 * GENERATOR_BACKFILL in the all-in-one: history is there at once (the charts and the
 * detector's baseline), then the built-in generator continues live without a gap.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POPS, FUNCTIONS } from '@edgeworker/pops';
import { loadConfig } from './config.ts';
import { startAllInOne } from './all-in-one.ts';
import { waitFor } from './testing/wait.ts';

it('GENERATOR_BACKFILL=10m writes ten minutes of history, then continues live', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-backfill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const started = Date.now();
  const product = await startAllInOne(
    loadConfig({ PORT: '0', DATA_DIR: dir, GENERATOR_BACKFILL: '10m', GENERATOR_INTERVAL_MS: '60000', GENERATOR_SEED: '5', DETECTOR: 'off', LOG_LEVEL: 'silent', WEB_DIST_DIR: dir }),
  );
  t.after(() => product.stop());
  const { store } = product.app.services;
  const series = POPS.length * FUNCTIONS.length;
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  // Ten ticks of history (one a minute), then the first live batch at about now.
  const history = await waitFor(async () => {
    const s = await store.summarize({ fromNs: ns(started - 11 * 60_000), toNs: ns(started) });
    return s.overall.samples >= 10 * series ? s : undefined;
  }, 60_000, 'ten minutes of history');
  assert.equal(history.overall.samples, 10 * series, 'every history tick once');
  assert.equal(history.byPop.length, POPS.length);
  await waitFor(async () => (await store.latestSampleNs())! >= ns(started), 30_000, 'live samples after the backfill');
  const health = (await (await fetch(`${product.url}/health`)).json()) as { components: { generator: { backfill?: { running: boolean; points: number } } } };
  const backfill = health.components.generator.backfill;
  assert.ok(backfill, `the generator's health shows the backfill: ${JSON.stringify(health)}`);
  assert.equal(backfill.running, false);
  // A tick a minute from ten minutes back up to now: 10 or 11 of them.
  assert.ok(backfill.points === 10 * series || backfill.points === 11 * series, `${backfill.points} points`);
});

it('a restart with the same GENERATOR_BACKFILL on the same data writes only what is missing, not the span again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-backfill-again-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { PORT: '0', DATA_DIR: dir, GENERATOR_BACKFILL: '10m', GENERATOR_INTERVAL_MS: '60000', DETECTOR: 'off', LOG_LEVEL: 'silent', WEB_DIST_DIR: dir };
  const series = POPS.length * FUNCTIONS.length;
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const started = Date.now();
  const backfillOf = async (url: string) => {
    const health = (await (await fetch(`${url}/health`)).json()) as { components: { generator: { backfill?: { running: boolean; points: number } } } };
    return health.components.generator.backfill;
  };
  const first = await startAllInOne(loadConfig(env));
  await waitFor(async () => ((await backfillOf(first.url))?.running === false ? true : undefined), 60_000, 'the first backfill');
  await first.stop();

  const again = await startAllInOne(loadConfig(env));
  t.after(() => again.stop());
  const b = await waitFor(async () => { const x = await backfillOf(again.url); return x?.running === false ? x : undefined; }, 60_000, 'the second backfill');
  // The minute or so between the two starts at most: a tick a minute.
  assert.ok(b.points <= 2 * series, `${b.points} points backfilled again`);
  const { store } = again.app.services;
  const history = await store.summarize({ fromNs: ns(started - 11 * 60_000), toNs: ns(started) });
  assert.equal(history.overall.samples, 10 * series, 'every history tick once, not twice');
});
