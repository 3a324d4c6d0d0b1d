import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, splitInjections } from './config.ts';

test('GENERATOR_INJECT: one spec, several specs (a repeated key starts the next), none', () => {
  assert.deepEqual(loadConfig({}).generator.inject, []);
  assert.deepEqual(loadConfig({ GENERATOR_INJECT: 'pops=FRA;functions=ssr-render;factor=2;start=+1m;duration=15m' }).generator.inject, [
    'pops=FRA;functions=ssr-render;factor=2;start=+1m;duration=15m',
  ]);
  assert.deepEqual(splitInjections('pops=FRA;factor=2; pops=AMS,LHR;factor=3;duration=5m;'), ['pops=FRA;factor=2', 'pops=AMS,LHR;factor=3;duration=5m']);
});

test('GENERATOR_INJECT: a bad spec, an unknown POP or function stops start-up with one line naming the variable', () => {
  const bad = (v: string, re: RegExp) =>
    assert.throws(() => loadConfig({ GENERATOR_INJECT: v }), (err: Error) => err instanceof ConfigError && re.test(err.message) && !err.message.includes('\n'));
  bad('pops=FRA', /^GENERATOR_INJECT is invalid: .*factor is required/);
  bad('pops=FRA;factor=fast', /factor must be a number > 0/);
  bad('pops=XXQ;factor=2', /unknown POP XXQ/);
  bad('functions=ssr-rendr;factor=2', /unknown function ssr-rendr/);
});
