import { z } from 'zod';

/** Largest 64-bit unsigned id (BIGINT UNSIGNED). */
export const MAX_ID = 18_446_744_073_709_551_615n;

/** A decimal id string as a bigint, or undefined when it is not a 64-bit unsigned id. */
export function parseId(s: string): bigint | undefined {
  if (!/^\d{1,20}$/.test(s)) return undefined;
  const v = BigInt(s);
  return v <= MAX_ID ? v : undefined;
}

/** Schema of an id carried as a decimal string (JSON, messages). */
export const idString = z
  .string()
  .regex(/^\d{1,20}$/, 'expected a decimal id')
  .refine((s) => parseId(s) !== undefined, 'id is out of the 64-bit range');
