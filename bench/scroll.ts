/**
 * The dashboard with more than 1,000 POPs: frame times while scrolling the POP table
 * from top to bottom, 400 px per animation frame, in Chromium (playwright-core, the
 * e2e harness: the real all-in-one with its generator, a fresh dashboard build). Moved
 * here from the e2e test, which only printed the figures; the goal lives in the bench.
 * PASSES scrolls through the whole table; the figures are over every frame of them. The
 * anchor is the same page's frames while nothing scrolls (a busy machine slows both).
 */
import { startStack } from '../apps/web/e2e/harness.ts';
import { SCROLL_THROUGH_TABLE, type ScrollFigures } from '../apps/web/e2e/page-scripts.ts';
import { runAlone, type BenchRow } from './lib.ts';

const EXTRA_POPS = 600;

/** The same page's animation frames while nothing scrolls: what the machine gives any frame. */
const IDLE_FRAMES = `new Promise((resolve) => {
  const times = [];
  let last = performance.now();
  const step = () => {
    const t = performance.now();
    times.push(t - last);
    last = t;
    if (times.length < 120) requestAnimationFrame(step);
    else resolve(times.sort((a, b) => a - b)[Math.floor(0.95 * times.length)]);
  };
  requestAnimationFrame(step);
})`;
const PASSES = 3;
const GOAL_P95_MS = 50;

export async function run(): Promise<BenchRow[]> {
  const stack = await startStack({ DETECTOR: 'off', GENERATOR_INTERVAL_MS: '10000' });
  try {
    // 600 POPs first seen in data, on a grid over the world, as in the e2e test.
    const now = Date.now();
    const lines = Array.from({ length: EXTRA_POPS }, (_, i) => {
      const lat = -50 + (i % 30) * 3.5;
      const lon = -170 + Math.floor(i / 30) * 17;
      return `cold_start_metrics,pop_code=Q${String(i).padStart(3, '0')},city=Grid\\ ${i},country=ZZ,tier=tier3,function_name=ssr-render cold_start_time_ms=${50 + (i % 40) * 10},latitude=${lat},longitude=${lon} ${now}`;
    });
    const res = await fetch(`${stack.url}/write?db=edgeworker&precision=ms`, { method: 'POST', body: lines.join('\n') });
    if (res.status !== 204) throw new Error(`write answered ${res.status}: ${await res.text()}`);

    const page = await stack.newPage();
    await page.goto(stack.url);
    await page.waitForFunction("document.querySelectorAll('[data-pop]').length >= 1000", null, { timeout: 60_000 });
    const rows = Number(await page.locator('[data-testid="pop-table"]').getAttribute('aria-rowcount')) - 1;
    const idleP95: number[] = [];
    const times: ScrollFigures[] = [];
    for (let i = 0; i < PASSES; i++) {
      await page.evaluate("document.querySelector('.pop-scroll').scrollTop = 0");
      idleP95.push((await page.evaluate(IDLE_FRAMES)) as number); // also lets the table render its first window again
      times.push((await page.evaluate(SCROLL_THROUGH_TABLE)) as ScrollFigures);
    }
    const frames = times.reduce((n, f) => n + f.frames, 0);
    const p50 = median(times.map((f) => f.p50Ms));
    const p95 = Math.max(...times.map((f) => f.p95Ms));
    const over50 = times.reduce((n, f) => n + f.over50, 0);
    return [
      { name: `scroll ${rows} POPs in Chromium, frame p50`, value: round(p50), unit: 'ms' },
      {
        name: `  frame p95 (worst of ${PASSES} passes)`,
        value: round(p95),
        unit: 'ms',
        anchor: { name: 'idle frames p95', value: round(Math.max(...idleP95)) },
        ratio: p95 / Math.max(...idleP95),
        goal: `<= ${GOAL_P95_MS}`,
        ok: p95 <= GOAL_P95_MS,
      },
      { name: `  frames over 50 ms (of ${frames})`, value: over50, unit: 'frames' },
      { name: '  slowest frame', value: round(Math.max(...times.map((f) => f.worstMs))), unit: 'ms' },
    ];
  } finally {
    await stack.stop();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await runAlone({ run }, import.meta.url);
