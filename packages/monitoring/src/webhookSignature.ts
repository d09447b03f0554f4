import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: `X-Fjord-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
 * with `X-Fjord-Timestamp` in unix seconds, so a receiver can refuse both forged and replayed calls
 * (the scheme Stripe and GitHub use).
 */
export const SIGNATURE_HEADER = 'x-fjord-signature';
export const TIMESTAMP_HEADER = 'x-fjord-timestamp';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** True when `signature` is right for the body and the timestamp is within `toleranceSeconds` of `now`. */
export function verifyWebhook(
  secret: string,
  timestamp: number,
  body: string,
  signature: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const got = Buffer.from(signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
