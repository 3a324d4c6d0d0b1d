import type { PopStatus } from '@edgeworker/schema';
import { STATUS_GLYPH, STATUS_LABEL, safeStatus } from '../lib/status';

/** Status as glyph + word, coloured too, but readable without colour. */
export function StatusBadge({ status }: { status: PopStatus }) {
  const s = safeStatus(status);
  return (
    <span className={`badge badge-${s}`} data-status={s}>
      <span aria-hidden="true">{STATUS_GLYPH[s]}</span> <span className="badge-text">{STATUS_LABEL[s]}</span>
    </span>
  );
}
