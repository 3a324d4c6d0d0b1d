/**
 * Scripts run inside the page. They are strings, not functions: tsx compiles test files
 * with helpers (like __name) that the page does not have.
 */

export interface ScrollFigures {
  frames: number;
  p50Ms: number;
  p95Ms: number;
  worstMs: number;
  over50: number;
  lastRow: string | null;
}

/** Scrolls the POP table to its end, 400 px per animation frame, timing every frame. */
export const SCROLL_THROUGH_TABLE = `new Promise((resolve) => {
  const el = document.querySelector('.pop-scroll');
  let last = performance.now(), n = 0;
  const times = [];
  const step = () => {
    const t = performance.now();
    if (n > 0) times.push(t - last);
    last = t;
    n += 1;
    el.scrollTop += 400;
    if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1 || n > 400) {
      times.sort((a, b) => a - b);
      const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
      requestAnimationFrame(() => resolve({
        frames: n,
        p50Ms: at(0.5),
        p95Ms: at(0.95),
        worstMs: times[times.length - 1] ?? 0,
        over50: times.filter((x) => x > 50).length,
        lastRow: [...el.querySelectorAll('tr[data-pop-row]')].pop()?.getAttribute('aria-rowindex') ?? null,
      }));
      return;
    }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})`;
