/**
 * A real OTLP/HTTP trace receiver for the tracing tests: a node:http server on a free
 * loopback port that accepts `POST /v1/traces` as OTLP/JSON or OTLP/protobuf (what the
 * official exporters send) and records every span it is sent. Protobuf is read with a
 * small wire-format decoder of the few fields a test looks at (ids, parent, name, links,
 * service.name); a body it cannot read is answered 400, so a broken export fails the test.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { waitFor } from './wait.ts';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests, in arrival order. */
  contentTypes: string[];
  /** Waits (bounded) until a span matching `match` has arrived. */
  waitForSpan(match: (s: ReceivedSpan) => boolean, what: string, timeoutMs?: number): Promise<ReceivedSpan>;
}

export async function startOtlpReceiver(t: TestContext): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    const type = String(req.headers['content-type'] ?? '');
    contentTypes.push(type);
    try {
      spans.push(...(type.startsWith('application/json') ? fromJson(JSON.parse(body.toString('utf8'))) : fromProtobuf(body)));
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot read this export: ${(err as Error).message}`);
      return;
    }
    // An empty ExportTraceServiceResponse, in the request's encoding.
    if (type.startsWith('application/json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the exporters keep their connections alive
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    waitForSpan: (match, what, timeoutMs = 15_000) => waitFor(() => spans.find(match), timeoutMs, what),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/* OTLP/JSON: ids are hex strings, attributes {key, value: {stringValue|intValue|…}}. */
type JsonKv = { key: string; value: Record<string, unknown> };
function fromJson(doc: { resourceSpans?: { resource?: { attributes?: JsonKv[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] }): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const service = String(jsonAttrs(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          parentSpanId: String(s.parentSpanId ?? ''),
          name: String(s.name),
          service,
          links: ((s.links as { traceId: string; spanId: string }[] | undefined) ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          attributes: jsonAttrs(s.attributes as JsonKv[] | undefined),
        });
      }
    }
  }
  return out;
}

function jsonAttrs(kvs: JsonKv[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of kvs ?? []) {
    const v = kv.value;
    const x = v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue;
    if (x !== undefined) out[kv.key] = typeof x === 'string' && 'intValue' in v ? Number(x) : (x as string | number | boolean);
  }
  return out;
}

/* OTLP/protobuf: ExportTraceServiceRequest{1 resource_spans{1 resource{1 attributes}, 2 scope_spans{2 spans}}}. */
type Field = { no: number; wire: number; int?: bigint; bytes?: Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, int: varint() });
    else if (wire === 1) {
      out.push({ no, wire, int: buf.readBigUInt64LE(i) });
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated field');
      out.push({ no, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 5) {
      out.push({ no, wire, int: BigInt(buf.readUInt32LE(i)) });
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const sub = (fs: Field[], no: number) => fs.filter((f) => f.no === no && f.bytes).map((f) => f.bytes!);
const str = (fs: Field[], no: number) => sub(fs, no)[0]?.toString('utf8') ?? '';
const hex = (fs: Field[], no: number) => sub(fs, no)[0]?.toString('hex') ?? '';

function pbAttrs(kvs: Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of kvs) {
    const f = fields(kv);
    const value = fields(sub(f, 2)[0] ?? Buffer.alloc(0));
    const s = value.find((x) => x.no === 1 && x.bytes);
    const b = value.find((x) => x.no === 2 && x.int !== undefined);
    const n = value.find((x) => x.no === 3 && x.int !== undefined);
    if (s) out[str(f, 1)] = s.bytes!.toString('utf8');
    else if (b) out[str(f, 1)] = b.int === 1n;
    else if (n) out[str(f, 1)] = Number(n.int);
  }
  return out;
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of sub(fields(body), 1)) {
    const rsf = fields(rs);
    const resource = fields(sub(rsf, 1)[0] ?? Buffer.alloc(0));
    const service = String(pbAttrs(sub(resource, 1))['service.name'] ?? '');
    for (const ss of sub(rsf, 2)) {
      for (const span of sub(fields(ss), 2)) {
        const f = fields(span);
        out.push({
          traceId: hex(f, 1),
          spanId: hex(f, 2),
          parentSpanId: hex(f, 4),
          name: str(f, 5),
          service,
          links: sub(f, 13).map((l) => {
            const lf = fields(l);
            return { traceId: hex(lf, 1), spanId: hex(lf, 2) };
          }),
          attributes: pbAttrs(sub(f, 9)),
        });
      }
    }
  }
  return out;
}
