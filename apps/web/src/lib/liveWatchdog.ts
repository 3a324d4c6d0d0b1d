/**
 * The page's watchdog over one live socket. A server whose process is stopped (SIGSTOP) or
 * whose event loop hangs keeps its TCP connections open: the browser's WebSocket never closes,
 * and the badge said "Live" over frozen numbers for ever (the protocol's ping frames are
 * invisible to page code). The server sends a `heartbeat` every WS_HEARTBEAT_INTERVAL_MS and
 * says that interval in its `hello`; any message counts as a sign of life. More than
 * SILENCE_FACTOR intervals without one and the socket is given up (`onSilent`).
 *
 * Before the server has said its interval, the first message must come within
 * `firstMessageWithinMs` of the socket's creation: that covers a handshake a stopped server
 * never answers (the kernel still accepts the TCP connection). A server that says no interval
 * (one from before heartbeats) sends hello and then only news, which may be minutes apart:
 * the watchdog stands down after that first message instead of calling a quiet server dead.
 */

/** Silent intervals before the server is called stale: one late tick on a busy server is no alarm. */
export const SILENCE_FACTOR = 3;
/** From the socket's creation to its first message (hello), before any interval is known. */
export const FIRST_MESSAGE_WITHIN_MS = 10_000;

export interface WatchdogOptions {
  /** Called once, when the bound passes with nothing heard; `silentMs` since the last message (or the start). */
  onSilent: (silentMs: number) => void;
  firstMessageWithinMs?: number;
  factor?: number;
  now?: () => number;
}

/** What a message said about the server's heartbeat. */
export interface Heard {
  /** The interval it says (hello's `heartbeatIntervalMs`, heartbeat's `intervalMs`). */
  intervalMs?: number;
  /** It is the hello: one without an interval comes from a server that sends no heartbeat. */
  hello?: boolean;
}

export interface Watchdog {
  /** A message (of any type, even one this page does not know) arrived. */
  heard(said?: Heard): void;
  /** The socket is gone or replaced: never fire. */
  stop(): void;
  /** The silence the watchdog tolerates now, in ms; null once it has stood down or stopped. */
  boundMs(): number | null;
}

/** The silence bound for a heartbeat interval (ms), or null for a value that is no interval. */
export function silenceBoundMs(intervalMs: number | undefined, factor = SILENCE_FACTOR): number | null {
  return typeof intervalMs === 'number' && Number.isFinite(intervalMs) && intervalMs > 0 ? factor * intervalMs : null;
}

export function startWatchdog(opts: WatchdogOptions): Watchdog {
  const now = opts.now ?? Date.now;
  const factor = opts.factor ?? SILENCE_FACTOR;
  let last = now();
  let bound: number | null = opts.firstMessageWithinMs ?? FIRST_MESSAGE_WITHIN_MS;
  let intervalKnown = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;

  const arm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (done || bound === null) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (done) return;
      done = true;
      opts.onSilent(now() - last);
    }, bound);
  };

  arm();
  return {
    heard(said = {}) {
      if (done) return;
      last = now();
      const b = silenceBoundMs(said.intervalMs, factor);
      if (b !== null) {
        bound = b;
        intervalKnown = true;
      } else if (said.hello && !intervalKnown) {
        bound = null; // stands down: this server's news may be minutes apart
      }
      // Anything else before the hello (an alert broadcast) restarts the first-message bound.
      arm();
    },
    stop() {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    boundMs: () => (done ? null : bound),
  };
}
