/**
 * A client that trickles its headers or its body is dropped (issue 15: L2), and
 * others are served meanwhile.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startTestApp } from '../testing/start-app.ts';
import { waitFor } from '../testing/wait.ts';

function open(url: string): Promise<{ socket: Socket; closed: () => boolean; received: () => string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let closed = false;
    let received = '';
    const socket = connect(Number(port), hostname, () => resolve({ socket, closed: () => closed, received: () => received }));
    socket.on('data', (d) => (received += String(d)));
    socket.on('close', () => (closed = true));
    socket.on('error', reject);
  });
}

describe('request timeouts', () => {
  it('drops a client that sends a body slowly, and one that never finishes its headers', async (t) => {
    const { url } = await startTestApp(t, { HTTP_REQUEST_TIMEOUT_MS: '1500', HTTP_HEADERS_TIMEOUT_MS: '1000' });
    const slowBody = await open(url);
    t.after(() => slowBody.socket.destroy());
    slowBody.socket.write('POST /write?precision=ms HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 9000000\r\n\r\ncold_start_metrics');
    // Keep trickling: an idle timeout alone would not catch this client.
    const trickle = setInterval(() => slowBody.socket.writable && slowBody.socket.write('a'), 200);
    t.after(() => clearInterval(trickle));
    const slowHeaders = await open(url);
    t.after(() => slowHeaders.socket.destroy());
    slowHeaders.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const headerTrickle = setInterval(() => slowHeaders.socket.writable && slowHeaders.socket.write('X-A: b\r\n'), 200);
    t.after(() => clearInterval(headerTrickle));

    // Others are served meanwhile.
    assert.equal((await fetch(`${url}/api/functions`)).status, 200);
    await waitFor(() => slowHeaders.closed(), 10_000, 'the slow-headers client to be dropped');
    await waitFor(() => slowBody.closed(), 10_000, 'the slow-body client to be dropped');
    assert.match(slowBody.received(), /^HTTP\/1\.1 408/, 'told why');
  });
});
