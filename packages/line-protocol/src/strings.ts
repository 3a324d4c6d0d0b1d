/**
 * Why this exists: V8 represents a substring of 13+ characters as a view into its parent
 * string, so a tag value kept by a store would keep its whole request body (up to 10 MB)
 * alive. Every string the parser hands out is therefore copied off the body.
 */

/** An independent copy of s (prepending forces a flat copy that the slice then views). */
export function detach(s: string): string {
  return (' ' + s).slice(1);
}

/**
 * Names repeat on nearly every line (measurement, tag keys, POP codes, cities, field
 * keys), so short ones share one copy: the body is not pinned and each repeat costs a Map
 * lookup instead of an allocation. Bounded so high-cardinality tags cannot grow it.
 */
const INTERN_MAX = 10_000;
const INTERN_MAX_LENGTH = 256;
const interned = new Map<string, string>();

export function intern(s: string): string {
  if (s.length > INTERN_MAX_LENGTH) return detach(s);
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  const own = detach(s);
  if (interned.size >= INTERN_MAX) interned.clear();
  interned.set(own, own);
  return own;
}
