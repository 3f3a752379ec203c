import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errorx/index.js';

export const SIGNATURE_HEADER = 'x-qf-signature';
export const TIMESTAMP_HEADER = 'x-qf-timestamp';

/** HMAC-SHA256 over `<unix seconds>.<raw body>`, hex, prefixed `sha256=`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Verifies a webhook before anything is read from its body: the timestamp is within the tolerance
 * of our clock, and the signature matches (compared in constant time).
 */
export function verifyWebhook(opts: {
  secret: string;
  toleranceSeconds: number;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  now?: number;
}): void {
  const ts = Number(opts.timestamp);
  if (!opts.timestamp || !Number.isInteger(ts))
    throw new AppError('INVALID_SIGNATURE', `missing or malformed ${TIMESTAMP_HEADER}`);
  const skew = Math.abs(Math.floor((opts.now ?? Date.now()) / 1000) - ts);
  if (skew > opts.toleranceSeconds) {
    throw new AppError(
      'INVALID_SIGNATURE',
      `webhook timestamp is ${skew} s away from now (tolerance ${opts.toleranceSeconds} s)`,
    );
  }
  const want = Buffer.from(signWebhook(opts.secret, ts, opts.body));
  const got = Buffer.from(opts.signature ?? '');
  if (got.length !== want.length || !timingSafeEqual(got, want))
    throw new AppError('INVALID_SIGNATURE', 'webhook signature does not match');
}
