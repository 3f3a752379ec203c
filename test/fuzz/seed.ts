/**
 * The seed of a fuzz run: FUZZ_SEED=<integer> replays a run, FUZZ_SEED=random explores new inputs, and
 * unset the suite's own fixed seed is used, so the gating CI run is reproducible. Each suite prints it.
 */
export function fuzzSeed(fixed: number): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv === undefined || fromEnv === '') return fixed;
  if (fromEnv === 'random') return Math.floor(Math.random() * 2 ** 31);
  const n = Number(fromEnv);
  if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED must be an integer or "random", got ${fromEnv}`);
  return n;
}
