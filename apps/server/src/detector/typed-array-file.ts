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
import { open, readFile, rename, rm } from 'node:fs/promises';
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

export interface TypedArrayFile {
  meta: unknown;
  /** Views of the file's bytes (no copy), by name. */
  arrays: Map<string, AnyTypedArray>;
  bytes: number;
}

/** Reads and checks a file written by writeTypedArrayFile; throws TypedArrayFileError when it is not intact. */
export async function readTypedArrayFile(path: string): Promise<TypedArrayFile> {
  let buf: Buffer = await readFile(path);
  // Views need 8-aligned offsets; a large read has its own buffer at offset 0, a small one may be pooled.
  if (buf.byteOffset % 8 !== 0) buf = Buffer.from(buf);
  return parseTypedArrayFile(buf);
}

export function parseTypedArrayFile(buf: Buffer): TypedArrayFile {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new TypedArrayFileError('not a typed-array file (no magic)');
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const start = align8(MAGIC.length + 4 + jsonLength);
  if (buf.length < start) throw new TypedArrayFileError(`truncated: ${buf.length} bytes, the header alone needs ${start}`);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + jsonLength)) as Header;
  } catch {
    throw new TypedArrayFileError('damaged header');
  }
  if (header.littleEndian !== (endianness() === 'LE')) throw new TypedArrayFileError('written on a machine of the other byte order');
  if (buf.length !== start + header.bodyBytes) throw new TypedArrayFileError(`truncated or overlong: ${buf.length} bytes, expected ${start + header.bodyBytes}`);
  const body = buf.subarray(start);
  if (crc32(body) !== header.crc32) throw new TypedArrayFileError('checksum mismatch: the file is damaged');
  const arrays = new Map<string, AnyTypedArray>();
  for (const e of header.arrays) {
    const T = TYPES[e.type];
    if (!T || e.offset % 8 !== 0 || e.offset + e.length * T.BYTES_PER_ELEMENT > header.bodyBytes) throw new TypedArrayFileError(`bad entry for ${e.name}`);
    arrays.set(e.name, new T(body.buffer as ArrayBuffer, body.byteOffset + e.offset, e.length));
  }
  return { meta: header.meta, arrays, bytes: buf.length };
}
