/** FUZZ_SEED reproduces a run; otherwise a fresh seed, printed by each suite. */
export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED must be an integer, got ${fromEnv}`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
