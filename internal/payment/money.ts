import { AppError } from '../errorx/index.js';

/** Fen (our minor units) as Alipay's yuan with exactly two decimals: 1 -> "0.01", 12345 -> "123.45". */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError(`not an amount in fen: ${fen}`);
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/**
 * Alipay's yuan string back to fen, exactly (no floating point): "123.45" -> 12345, "7" -> 700,
 * "0.5" -> 50. Anything else (signs, exponents, three decimals, spaces) is VALIDATION_FAILED.
 */
export function yuanToFen(yuan: string, field = 'amount'): number {
  const m = /^(0|[1-9]\d{0,12})(?:\.(\d{1,2}))?$/.exec(yuan);
  if (!m)
    throw new AppError('VALIDATION_FAILED', `${field} '${yuan}' is not an amount in yuan with up to two decimals`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
