/**
 * Small deterministic randomness helpers. Math.random cannot be seeded, and the
 * generator must replay the same numbers for the same seed (tests, demos, bug reports).
 */

/** mulberry32: 32-bit state, fast, good enough statistically for synthetic data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a 32-bit hash: a stable number per string, identical on every platform and run. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (from murmur3) so similar codes ("FRA", "FRB") land far apart.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Maps a string to [0, 1) deterministically. */
export function hashUnit(text: string): number {
  return hash32(text) / 4294967296;
}

/**
 * Standard normal via Box-Muller. Always consumes exactly two draws, so the stream
 * position after a call never depends on the values drawn.
 */
export function standardNormal(random: () => number): number {
  const u1 = random();
  const u2 = random();
  // 1 - u1 is in (0, 1], so the log is finite.
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}
