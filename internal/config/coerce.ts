import { z } from 'zod';

/** A list: the YAML sequence, or its environment form `a, b, c` (comma-separated, trimmed). */
export const list = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string().min(1)),
);
