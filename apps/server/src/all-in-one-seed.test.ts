/**
 * The built-in generator's seed is kept in DATA_DIR: each POP's level comes from it, so a restart
 * with a new random seed moved every POP's latency, and the detector raised the slower ones as
 * regressions (a dashboard audit found 27-38 warnings after `npm start` twice on the same data).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from './config.ts';
import { GENERATOR_SEED_FILE, generatorSeed, startAllInOne } from './all-in-one.ts';

const tempDir = (t: import('node:test').TestContext) => {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-seed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const log = pino({ level: 'silent' });

it('without GENERATOR_SEED the seed is chosen once per DATA_DIR and kept; GENERATOR_SEED wins; an unreadable one is replaced', (t) => {
  const a = tempDir(t);
  const first = generatorSeed(loadConfig({ DATA_DIR: a }), log);
  assert.equal(readFileSync(join(a, GENERATOR_SEED_FILE), 'utf8').trim(), String(first));
  assert.equal(generatorSeed(loadConfig({ DATA_DIR: a }), log), first, 'the same data: the same fleet');
  assert.equal(generatorSeed(loadConfig({ DATA_DIR: a, GENERATOR_SEED: '7' }), log), 7);
  // Another data folder, another fleet (two random 31-bit seeds).
  const b = tempDir(t);
  assert.notEqual(generatorSeed(loadConfig({ DATA_DIR: b }), log), first);
  writeFileSync(join(b, GENERATOR_SEED_FILE), 'not a seed\n');
  const replaced = generatorSeed(loadConfig({ DATA_DIR: b }), log);
  assert.ok(Number.isInteger(replaced) && replaced >= 0);
  assert.equal(readFileSync(join(b, GENERATOR_SEED_FILE), 'utf8').trim(), String(replaced));
});

it('npm start twice on the same DATA_DIR generates the same fleet (the generator health shows one seed)', async (t) => {
  const dir = tempDir(t);
  const seeds: number[] = [];
  for (let i = 0; i < 2; i++) {
    const product = await startAllInOne(loadConfig({ PORT: '0', DATA_DIR: dir, GENERATOR_INTERVAL_MS: '60000', DETECTOR: 'off', LOG_LEVEL: 'silent', WEB_DIST_DIR: dir }));
    try {
      const health = (await (await fetch(`${product.url}/health`)).json()) as { components: { generator: { seed: number } } };
      seeds.push(health.components.generator.seed);
    } finally {
      await product.stop();
    }
  }
  assert.equal(typeof seeds[0], 'number');
  assert.equal(seeds[1], seeds[0]);
});
