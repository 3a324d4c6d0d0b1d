/// <reference types="node" />
// Real timers, short intervals: every wait below is bounded and a few times the bound under test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silenceBoundMs, startWatchdog, type Watchdog } from './liveWatchdog.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function watched(firstMessageWithinMs = 10_000) {
  const fired: Array<{ at: number; silentMs: number }> = [];
  const dog = startWatchdog({ firstMessageWithinMs, onSilent: (silentMs) => fired.push({ at: Date.now(), silentMs }) });
  return { dog, fired };
}

/** heard() every `everyMs` for `forMs`, as a server's heartbeats would arrive. */
async function feed(dog: Watchdog, everyMs: number, forMs: number) {
  const end = Date.now() + forMs;
  while (Date.now() < end) {
    dog.heard({});
    await sleep(everyMs);
  }
}

describe('live watchdog', () => {
  it('gives up on a socket after three heartbeat intervals of silence, once', async () => {
    const { dog, fired } = watched();
    dog.heard({ hello: true, intervalMs: 100 });
    const lastHeard = Date.now();
    assert.equal(dog.boundMs(), 300);
    await sleep(150);
    assert.equal(fired.length, 0, 'half the bound is no silence');
    await sleep(1_000);
    assert.equal(fired.length, 1, 'fired once, not again');
    const after = fired[0]!.at - lastHeard;
    assert.ok(after >= 295 && after < 1_000, `fired ${after} ms after the last message`);
    assert.ok(fired[0]!.silentMs >= 295, `reports ${fired[0]!.silentMs} ms of silence`);
    assert.equal(dog.boundMs(), null, 'spent');
  });

  it('stays quiet while any message keeps coming, for many times the bound, then fires when they stop', async () => {
    const { dog, fired } = watched();
    dog.heard({ hello: true, intervalMs: 100 });
    // messages that say nothing about the interval (metrics_update, alert, unknown types) count too
    await feed(dog, 50, 1_200);
    assert.equal(fired.length, 0, 'four bounds of steady messages are not silence');
    await sleep(700);
    assert.equal(fired.length, 1);
  });

  it('takes the interval a heartbeat says over the one before', async () => {
    const { dog, fired } = watched();
    dog.heard({ hello: true, intervalMs: 100 });
    dog.heard({ intervalMs: 400 });
    assert.equal(dog.boundMs(), 1_200);
    await sleep(600);
    assert.equal(fired.length, 0, 'the old 300 ms bound no longer applies');
    dog.stop();
  });

  it('calls a socket with no first message silent after firstMessageWithinMs (a handshake a stopped server never answers)', async () => {
    const started = Date.now();
    const { dog, fired } = watched(150);
    await sleep(100);
    assert.equal(fired.length, 0);
    await sleep(600);
    assert.equal(fired.length, 1);
    assert.ok(fired[0]!.at - started >= 145, `fired after ${fired[0]!.at - started} ms`);
    assert.equal(dog.boundMs(), null);
  });

  it('an alert before the hello restarts the first-message bound but does not stand the watchdog down', async () => {
    const { dog, fired } = watched(150);
    dog.heard({});
    assert.equal(dog.boundMs(), 150);
    await sleep(600);
    assert.equal(fired.length, 1, 'still waiting for a hello, and none came');
  });

  it('stands down for a server that says no interval in its hello (from before heartbeats: its news may be minutes apart)', async () => {
    const { dog, fired } = watched(150);
    dog.heard({ hello: true });
    assert.equal(dog.boundMs(), null);
    await sleep(500);
    assert.equal(fired.length, 0);
    dog.stop();
  });

  it('never fires once stopped (the socket closed or was replaced)', async () => {
    const { dog, fired } = watched(100);
    dog.stop();
    dog.heard({ intervalMs: 10 });
    await sleep(400);
    assert.equal(fired.length, 0);
  });

  it('bounds silence at three intervals, and only for a real interval', () => {
    assert.equal(silenceBoundMs(5_000), 15_000);
    for (const bad of [undefined, 0, -5, Number.NaN, Number.POSITIVE_INFINITY]) assert.equal(silenceBoundMs(bad), null, String(bad));
  });
});
