export type Precision = 'ns' | 'us' | 'ms' | 's';

export type FieldValue =
  | { type: 'float'; value: number }
  | { type: 'integer'; value: bigint }
  | { type: 'unsigned'; value: bigint }
  | { type: 'string'; value: string }
  | { type: 'boolean'; value: boolean };

export interface ParsedPoint {
  measurement: string;
  /**
   * Keys as written, in line order (InfluxDB itself sorts them; do not rely on order).
   * Frozen and shared by the points of a body (and later bodies) with the same series key.
   */
  tags: Readonly<Record<string, string>>;
  /** At least one. A key repeated on a line keeps its last value, as InfluxDB does. */
  fields: Record<string, FieldValue>;
  /** Nanoseconds since the epoch; `defaultTimeNs` when the line has no timestamp. */
  timeNs: bigint;
  /** 1-based line number in the body. */
  line: number;
}

/** A plain number encodes as a float, a string as a string, a boolean as a boolean. */
export type FieldInput = FieldValue | number | string | boolean;

export interface PointInput {
  measurement: string;
  tags?: Record<string, string>;
  fields: Record<string, FieldInput>;
  timeNs?: bigint;
}

import { detach } from './strings.ts';

const MAX_ERROR_TEXT = 200;

/** The first bad line of a body; callers reject the whole body (no partial writes). */
export class LineProtocolError extends Error {
  readonly line: number;
  readonly text: string;
  readonly reason: string;

  constructor(line: number, text: string, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = 'LineProtocolError';
    this.line = line;
    // Detached so an error kept for a response or log does not pin the request body.
    this.text = detach(text.length > MAX_ERROR_TEXT ? text.slice(0, MAX_ERROR_TEXT) : text);
    this.reason = reason;
  }
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Tag and field keys InfluxDB refuses to store (v1 reference: `time` is rejected as a
 * tag or field key; `_measurement` and `_field` discard the point). Rejecting them here
 * keeps a body from being accepted by us and then partly dropped downstream.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['time', '_measurement', '_field']);
