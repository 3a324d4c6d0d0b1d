/**
 * InfluxDB line protocol: encoder and strict parser.
 *
 * Where InfluxDB's own parsers are lenient or disagree, this follows the v2 reference and
 * InfluxData's line-protocol spec, and says so in the error instead of guessing:
 * - exactly one space between sections (InfluxDB tolerates runs of spaces; we reject them);
 * - outside string values a backslash escapes only `,` and space (plus `=` in keys and tag
 *   values); before anything else, `\\` included, it is a literal backslash;
 * - no control characters in names, no raw newline inside a string value;
 * - duplicate tag keys and the keys `time`, `_measurement`, `_field` are rejected;
 *   a repeated field key keeps its last value;
 * - timestamps must lie in InfluxDB's range, ±9223372036854775806 ns.
 */
export type { FieldInput, FieldValue, ParsedPoint, PointInput, Precision } from './types.ts';
export { LineProtocolError } from './types.ts';
export { PRECISIONS, fromNanoseconds, isPrecision, toNanoseconds } from './precision.ts';
export { parseLineProtocol, parseLineProtocolAsync, type AsyncParseOptions, type ParseOptions } from './parse.ts';
export { encodeBatch, encodePoint } from './encode.ts';
