/** Seeded randomness for the simulation: the same seed gives the same cluster, losses, delays and jitter. */

export type Random = () => number;

/** mulberry32: a small, fast 32-bit PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An independent stream for one part (a hive's jitter, the network), so adding a part never shifts the others. */
export function derive(seed: number, stream: string): Random {
  let hash = 2_166_136_261 ^ seed;
  for (let i = 0; i < stream.length; i++) hash = Math.imul(hash ^ stream.charCodeAt(i), 16_777_619);
  return mulberry32(hash);
}

/** An integer in [min, max], both included. */
export function between(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
