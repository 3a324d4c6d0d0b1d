/**
 * Ctrl-C in a terminal reaches a process more than once (the terminal signals the whole
 * process group, npm forwards one more): one Ctrl-C must still give a clean shutdown,
 * and only a deliberate second one, after the grace window, forces the exit.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../testing/wait.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

function startSlowStop(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/testing/slow-stop.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, out: () => out };
}

describe('stopOnSignals', () => {
  it('treats signals repeated within the grace window as one: clean shutdown, exit 0', async () => {
    const p = startSlowStop({ STOP_MS: '800', GRACE_MS: '3000' });
    await waitFor(() => p.out().includes('ready'), 20_000, 'the fixture to be ready');
    // What a terminal plus npm deliver for one Ctrl-C: two or three in a few ms.
    p.child.kill('SIGINT');
    p.child.kill('SIGINT');
    setTimeout(() => p.child.kill('SIGTERM'), 50);
    assert.equal(await p.exited, 0, p.out());
    assert.match(p.out(), /shutdown complete/);
    assert.doesNotMatch(p.out(), /exiting without waiting/);
    assert.match(p.out(), /signal repeated while shutting down: ignored/);
  });

  it('a second signal after the grace window forces the exit (130)', async () => {
    const p = startSlowStop({ STOP_MS: '60000', GRACE_MS: '200' });
    await waitFor(() => p.out().includes('ready'), 20_000, 'the fixture to be ready');
    p.child.kill('SIGINT');
    await waitFor(() => p.out().includes('shutting down'), 10_000, 'the shutdown to start');
    await new Promise((r) => setTimeout(r, 300)); // past the 200 ms grace window: a deliberate second Ctrl-C
    p.child.kill('SIGINT');
    assert.equal(await p.exited, 130, p.out());
    assert.match(p.out(), /second signal: exiting without waiting/);
    assert.doesNotMatch(p.out(), /shutdown complete/);
  });
});
