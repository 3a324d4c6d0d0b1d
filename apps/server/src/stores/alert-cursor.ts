/**
 * Paging helpers shared by the AlertStore adapters. Alerts are listed newest
 * first (createdAt desc, id desc); a cursor names the last alert of a page, so
 * the next page starts strictly after it even while new alerts arrive.
 * createdAt is an RFC 3339 string from toISOString(): fixed width, so string
 * order is time order in every adapter.
 */
import type { AlertType } from '@edgeworker/schema';
export interface CursorPosition {
  createdAt: string;
  id: string;
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

export const DEFAULT_ALERT_PAGE = 50;
export const MAX_ALERT_PAGE = 500;

/** Opaque to clients: base64url of a small JSON pair. */
export function encodeCursor(p: CursorPosition): string {
  return Buffer.from(JSON.stringify([p.createdAt, p.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string' ||
      Number.isNaN(Date.parse(value[0]))) {
    throw new InvalidCursorError(`cursor ${JSON.stringify(cursor.slice(0, 64))} is not one this server issued; start again without it`);
  }
  return { createdAt: value[0], id: value[1] };
}

/** Page size within 1..MAX_ALERT_PAGE; undefined means the default. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_ALERT_PAGE;
  return Math.min(MAX_ALERT_PAGE, Math.max(1, Math.floor(limit)));
}

/** The unique key that keeps one unresolved alert per (type, POP, function); absent once resolved. */
export function unresolvedKey(popCode: string, functionName: string, type: AlertType = 'regression'): string {
  // NUL cannot appear in a tag value, so the parts are unambiguous. Regression keys keep the
  // shape they had before no_data alerts existed, so stored unresolved alerts still match.
  return type === 'regression' ? `${popCode}\u0000${functionName}` : `${type}\u0000\u0000${popCode}\u0000${functionName}`;
}
