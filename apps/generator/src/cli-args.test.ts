import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POPS } from '@edgeworker/pops';
import { parseCliArgs, UsageError } from './cli-args.ts';

const NOW = Date.UTC(2025, 0, 1);
const T = ['--target', 'http://localhost:8086'];
const config = (args: string[], env: { INFLUX_TOKEN?: string } = {}) => {
  const r = parseCliArgs(args, env, NOW);
  assert.equal(r.help, false);
  return (r as Extract<typeof r, { help: false }>).config;
};
const usage = (args: string[], re: RegExp, env: { INFLUX_TOKEN?: string } = {}) =>
  assert.throws(() => parseCliArgs(args, env, NOW), (e: Error) => e instanceof UsageError && re.test(e.message), args.join(' '));

test('defaults', () => {
  const c = config(T);
  assert.equal(c.intervalMs, 10_000);
  assert.equal(c.seed, null);
  assert.equal(c.pops.length, POPS.length);
  assert.equal(c.maxBufferedPoints, 1_000_000);
  assert.equal(c.healthPort, null);
  assert.equal(c.healthHost, '127.0.0.1');
  assert.equal(c.gzip, false);
  assert.equal(c.once, false);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.token, undefined);
  assert.deepEqual(parseCliArgs(['--help'], {}, NOW), { help: true });
});

test('values, repeatable --inject, case-insensitive --pops', () => {
  const c = config([
    ...T, '--interval', '500', '--seed', '4294967295', '--pops', 'fra, ams', '--health-port', '0',
    '--max-buffer', '100', '--gzip', '--once', '--log-level', 'debug', '--bucket', 'b', '--org', 'o',
    '--inject', 'pops=FRA;factor=2', '--inject', 'functions=ssr-render;factor=3;start=+1m;duration=5m',
  ]);
  assert.deepEqual(c.pops.map((p) => p.code), ['FRA', 'AMS']);
  assert.equal(c.seed, 4_294_967_295);
  assert.equal(c.injections.length, 2);
  assert.equal(c.injections[1]!.startMs, NOW + 60_000);
  assert.equal(c.healthPort, 0);
  assert.equal(c.bucket, 'b');
});

test('INFLUX_TOKEN is only a fallback', () => {
  assert.equal(config(T, { INFLUX_TOKEN: 'env' }).token, 'env');
  assert.equal(config([...T, '--token', 'flag'], { INFLUX_TOKEN: 'env' }).token, 'flag');
  const basic = config([...T, '--username', 'u', '--password', 'p'], { INFLUX_TOKEN: 'env' });
  assert.equal(basic.token, undefined);
  assert.equal(basic.username, 'u');
});

test('bad values name the flag and what it accepts', () => {
  usage([], /--target is required/);
  usage(['--target', 'localhost:8086'], /--target: .*http:\/\//);
  usage(['--target', 'http://h/api/v2/write'], /--target: .*bucket/);
  usage([...T, '--interval', '50'], /--interval must be an integer from 100/);
  usage([...T, '--interval', '1e4x'], /--interval/);
  usage([...T, '--seed=-1'], /--seed must be an integer from 0 to 4294967295/);
  usage([...T, '--seed', '-1'], /--seed' argument is ambiguous.*--seed=-XYZ/);
  usage([...T, '--seed', '1.5'], /--seed/);
  usage([...T, '--health-port', '70000'], /--health-port/);
  usage([...T, '--max-buffer', '0'], /--max-buffer/);
  usage([...T, '--log-level', 'loud'], /--log-level must be one of/);
  usage([...T, '--pops', 'FRA,ZZZ'], /--pops: unknown POP code\(s\) ZZZ/);
  usage([...T, '--pops', ','], /--pops must list/);
  usage([...T, '--inject', 'pops=QQQ;factor=2'], /--inject: unknown POP code\(s\) QQQ/);
  usage([...T, '--inject', 'functions=nope;factor=2'], /--inject: unknown function\(s\) nope/);
  usage([...T, '--inject', 'factor=2;when=now'], /--inject: .*unknown key "when"/);
  usage([...T, '--db', 'a', '--bucket', 'b'], /--db .* --bucket/);
  usage([...T, '--username', 'u'], /--username and --password/);
  usage([...T, '--token', 't', '--username', 'u', '--password', 'p'], /--token and --username/);
  usage([...T, '--gzip=yes'], /gzip/);
  usage([...T, 'extra'], /positional/i);
  usage([...T, '--interval'], /--interval/);
});
