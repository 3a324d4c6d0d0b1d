/**
 * Child process of bench/ws-fanout.ts: holds N WebSocket clients, so the server under
 * test and its clients do not share an event loop (nor a file-descriptor budget).
 * Protocol over IPC:
 *   parent → {connect: url, count}   child → {ready, ms} once every client got its first message
 *   parent → {arm}                   child → {armed}
 *   (the parent broadcasts)          child → {done} when every client has received one more message
 *   parent → {close}                 child closes every client and exits
 */
import WebSocket from 'ws';

type Command = { connect: string; count: number } | { arm: true } | { close: true };

const clients: WebSocket[] = [];
/** How the hub's heartbeat message starts (JSON.stringify puts `type` first). */
const HEARTBEAT = Buffer.from('{"type":"heartbeat"');
let waiting = 0;

function send(msg: object) {
  process.send!(msg);
}

process.on('message', async (cmd: Command) => {
  if ('connect' in cmd) {
    const t0 = performance.now();
    let greeted = 0;
    // In waves: a burst of 10,000 SYNs overflows the listen backlog and costs retransmits.
    for (let i = 0; i < cmd.count; i += 250) {
      const wave: Promise<void>[] = [];
      for (let j = i; j < Math.min(cmd.count, i + 250); j++) {
        const ws = new WebSocket(cmd.connect, { perMessageDeflate: false });
        clients.push(ws);
        wave.push(
          new Promise((resolve, reject) => {
            ws.once('message', () => {
              greeted++;
              resolve();
            });
            ws.once('error', reject);
          }),
        );
        ws.on('message', (data: Buffer) => {
          // A heartbeat (every WS_HEARTBEAT_INTERVAL_MS) is not the broadcast being timed.
          if (data.subarray(0, HEARTBEAT.length).equals(HEARTBEAT)) return;
          if (waiting > 0 && --waiting === 0) send({ done: true });
        });
      }
      await Promise.all(wave);
    }
    send({ ready: true, clients: greeted, ms: performance.now() - t0 });
  } else if ('arm' in cmd) {
    waiting = clients.length;
    send({ armed: true });
  } else if ('close' in cmd) {
    for (const ws of clients) ws.terminate();
    process.exit(0);
  }
});
