/**
 * One binary file of named typed arrays and a JSON header: the engine snapshot's container
 * (engine-snapshot.ts). The arrays are written as they are held (no per-value encoding: the
 * snapshot is ~140 MB at 10,000 series) and each carries its element type's tag, so a change of
 * layout (a Float32Array where a Float64Array was) needs no new codec, only a new format
 * version in the header above it.
 *
 * Layout: MAGIC (8 bytes) | header length (u32 LE) | header (UTF-8 JSON, padded to 8) | body.
 * The header lists each array's name, type, length and offset in the body (8-aligned, so the
 * reader's views need no copy), the body's length and its CRC-32: a truncated or damaged file
 * is refused as such rather than read as numbers.
 *
 * Written atomically: a temporary file beside the target, fsync'd, then renamed over it; a
 * crash mid-write leaves the temporary file (removed at the next write), never half a snapshot.
 */
import { readSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';

const MAGIC = Buffer.from('EWTARR\u0000\u0001', 'latin1');

const TYPES = {
  Int8: Int8Array,
  Uint8: Uint8Array,
  Int16: Int16Array,
  Uint16: Uint16Array,
  Int32: Int32Array,
  Uint32: Uint32Array,
  Float32: Float32Array,
  Float64: Float64Array,
  BigInt64: BigInt64Array,
  BigUint64: BigUint64Array,
} as const;
export type ElementType = keyof typeof TYPES;
/** Any typed array, over any buffer (the engine's arrays are typed ArrayBufferLike). */
export type AnyTypedArray = Int8Array<ArrayBufferLike> | Uint8Array<ArrayBufferLike> | Int16Array<ArrayBufferLike> | Uint16Array<ArrayBufferLike> | Int32Array<ArrayBufferLike>
  | Uint32Array<ArrayBufferLike> | Float32Array<ArrayBufferLike> | Float64Array<ArrayBufferLike> | BigInt64Array<ArrayBufferLike> | BigUint64Array<ArrayBufferLike>;

export interface ArrayToWrite {
  name: string;
  /** The array's parts, written one after the other (the engine's per-series arrays, without a copy into one). */
  parts: readonly AnyTypedArray[];
}

interface ArrayEntry {
  name: string;
  type: ElementType;
  length: number;
  offset: number;
}

interface Header {
  littleEndian: boolean;
  bodyBytes: number;
  crc32: number;
  arrays: ArrayEntry[];
  meta: unknown;
}

/** A file that is not a whole, intact typed-array file (truncated, damaged, another format). */
export class TypedArrayFileError extends Error {
  override name = 'TypedArrayFileError';
}

export function elementTypeOf(a: AnyTypedArray): ElementType {
  const name = a.constructor.name.replace(/Array$/, '');
  if (!(name in TYPES)) throw new Error(`not a typed array: ${a.constructor.name}`);
  return name as ElementType;
}

const align8 = (n: number) => (n + 7) & ~7;

/**
 * Writes meta and the arrays to path atomically. beforeCommit runs once the temporary file is
 * complete and synced, before it replaces path: false leaves path as it was (the leader's fence
 * check). Returns the file's size, or null when beforeCommit refused.
 */
export async function writeTypedArrayFile(path: string, meta: unknown, arrays: readonly ArrayToWrite[], beforeCommit?: () => Promise<boolean>): Promise<number | null> {
  const entries: ArrayEntry[] = [];
  let offset = 0;
  let crc = 0;
  const pad = Buffer.alloc(8);
  const chunks: Uint8Array[] = [];
  for (const a of arrays) {
    if (a.parts.length === 0) throw new Error(`typed-array file: ${a.name} has no parts (one empty part gives it a type)`);
    const type = elementTypeOf(a.parts[0]!);
    let length = 0;
    for (const p of a.parts) {
      if (elementTypeOf(p) !== type) throw new Error(`typed-array file: ${a.name} mixes ${type} and ${elementTypeOf(p)}`);
      const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
      // Empty parts are skipped: Node 20's crc32 of a view of an empty buffer returns 0, not the running value.
      if (bytes.length > 0) {
        chunks.push(bytes);
        crc = crc32(bytes, crc);
      }
      length += p.length;
    }
    entries.push({ name: a.name, type, length, offset });
    const bytes = length * TYPES[type].BYTES_PER_ELEMENT;
    const padding = align8(bytes) - bytes;
    if (padding > 0) {
      const p = pad.subarray(0, padding);
      chunks.push(p);
      crc = crc32(p, crc);
    }
    offset += align8(bytes);
  }
  const header: Header = { littleEndian: endianness() === 'LE', bodyBytes: offset, crc32: crc, arrays: entries, meta };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(align8(MAGIC.length + 4 + json.length), 0x20);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(json.length, MAGIC.length);
  json.copy(prefix, MAGIC.length + 4);

  const tmp = `${path}.tmp`;
  // DATA_DIR may not exist yet (InfluxDB and MongoDB keep nothing else there).
  await mkdir(dirname(path), { recursive: true });
  await rm(tmp, { force: true });
  const fh = await open(tmp, 'wx');
  try {
    // writev in groups: a call takes at most IOV_MAX (1024) buffers.
    const all = [prefix, ...chunks];
    for (let i = 0; i < all.length; i += 512) await fh.writev(all.slice(i, i + 512));
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (beforeCommit && !(await beforeCommit())) {
    await rm(tmp, { force: true });
    return null;
  }
  await rename(tmp, path);
  return prefix.length + offset;
}

/** Sequential views of one array, a few at a time (see TypedArrayFileReader.cursor). */
export interface ArrayCursor<T extends AnyTypedArray = AnyTypedArray> {
  /** The next count elements: a view valid until the next call. */
  next(count: number): T;
}

/**
 * An open, checked file. Nothing of it is held in memory beyond its header and a chunk per
 * cursor: a snapshot is ~150 MB at 10,000 series, and holding it whole beside the state it is
 * copied into raised the restore's peak RSS above the cold re-derive's (measured).
 */
export interface TypedArrayFileReader {
  meta: unknown;
  bytes: number;
  has(name: string): boolean;
  /** An array's element type and length (throws when there is none). */
  entry(name: string): { type: ElementType; length: number };
  /** A whole array, read now (a copy): for the small ones. */
  read(name: string): Promise<AnyTypedArray>;
  /** The array in order, through a buffer of ~CHUNK bytes refilled by synchronous reads (an import runs in one block). */
  cursor(name: string): ArrayCursor;
  close(): Promise<void>;
}

const CHUNK = 4 << 20;

/**
 * Opens and checks a file written by writeTypedArrayFile: magic, byte order, length and the
 * body's CRC-32 (streamed: one read of the file, in chunks). Throws TypedArrayFileError when it
 * is not intact. The caller may unlink the path at once: the reader keeps its descriptor.
 */
export async function openTypedArrayFile(path: string): Promise<TypedArrayFileReader> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(MAGIC.length + 4);
    if (size < head.length || (await fh.read(head, 0, head.length, 0)).bytesRead !== head.length || !head.subarray(0, MAGIC.length).equals(MAGIC)) throw new TypedArrayFileError('not a typed-array file (no magic)');
    const jsonLength = head.readUInt32LE(MAGIC.length);
    const start = align8(MAGIC.length + 4 + jsonLength);
    if (size < start) throw new TypedArrayFileError(`truncated: ${size} bytes, the header alone needs ${start}`);
    const json = Buffer.alloc(jsonLength);
    await fh.read(json, 0, jsonLength, MAGIC.length + 4);
    let header: Header;
    try {
      header = JSON.parse(json.toString('utf8')) as Header;
    } catch {
      throw new TypedArrayFileError('damaged header');
    }
    if (header.littleEndian !== (endianness() === 'LE')) throw new TypedArrayFileError('written on a machine of the other byte order');
    if (size !== start + header.bodyBytes) throw new TypedArrayFileError(`truncated or overlong: ${size} bytes, expected ${start + header.bodyBytes}`);
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, header.bodyBytes)));
    let crc = 0;
    for (let at = 0; at < header.bodyBytes;) {
      const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, header.bodyBytes - at), start + at);
      if (bytesRead <= 0) throw new TypedArrayFileError('truncated while reading');
      crc = crc32(chunk.subarray(0, bytesRead), crc);
      at += bytesRead;
    }
    if (crc !== header.crc32) throw new TypedArrayFileError('checksum mismatch: the file is damaged');
    const entries = new Map<string, ArrayEntry>();
    for (const e of header.arrays) {
      const T = TYPES[e.type];
      if (!T || e.offset % 8 !== 0 || e.offset + e.length * T.BYTES_PER_ELEMENT > header.bodyBytes) throw new TypedArrayFileError(`bad entry for ${e.name}`);
      entries.set(e.name, e);
    }
    const entry = (name: string) => {
      const e = entries.get(name);
      if (!e) throw new TypedArrayFileError(`no array ${name}`);
      return e;
    };
    return {
      meta: header.meta,
      bytes: size,
      has: (name) => entries.has(name),
      entry,
      async read(name) {
        const e = entry(name);
        const out = new TYPES[e.type](e.length);
        const bytes = new Uint8Array(out.buffer, 0, out.byteLength);
        for (let at = 0; at < bytes.length;) {
          const { bytesRead } = await fh.read(bytes, at, bytes.length - at, start + e.offset + at);
          if (bytesRead <= 0) throw new TypedArrayFileError('truncated while reading');
          at += bytesRead;
        }
        return out;
      },
      cursor(name) {
        const e = entry(name);
        const T = TYPES[e.type];
        const size = T.BYTES_PER_ELEMENT;
        let buf = new T(Math.max(1, Math.floor(CHUNK / size)));
        /** Elements consumed, and the range [from, from + held) the buffer holds. */
        let used = 0;
        let from = 0;
        let held = 0;
        return {
          next(count) {
            if (used + count > e.length) throw new TypedArrayFileError(`${name}: read past its end`);
            if (used + count > from + held) {
              if (count > buf.length) buf = new T(count);
              const want = Math.min(buf.length, e.length - used);
              const bytes = new Uint8Array(buf.buffer, 0, want * size);
              for (let at = 0; at < bytes.length;) {
                const n = readSync(fh.fd, bytes, at, bytes.length - at, start + e.offset + used * size + at);
                if (n <= 0) throw new TypedArrayFileError('truncated while reading');
                at += n;
              }
              from = used;
              held = want;
            }
            const view = buf.subarray(used - from, used - from + count);
            used += count;
            return view;
          },
        };
      },
      close: () => fh.close(),
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
