/** Order ids and request fingerprints for Idempotency-Key handling. */
import { createHash, randomUUID } from 'node:crypto';

/**
 * The order id an Idempotency-Key stands for: the same customer and key always give the same id,
 * so a retried POST finds the order its first attempt created. Built from sha256(customerId '\n'
 * key) as an RFC 9562 version-8 (custom, name-based) UUID: 122 bits of the hash, version and
 * variant bits set. The key cannot contain '\n' (visible ASCII only) and customer ids cannot
 * either, so the input is unambiguous.
 */
export function orderIdForIdempotencyKey(customerId: string, key: string): string {
  const bytes = createHash('sha256').update(`${customerId}\n${key}`, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function newOrderId(): string {
  return randomUUID();
}

/** Canonical JSON lives with the request fingerprint (one rule, one place). */
export { canonicalJson } from '../runtime/request-fingerprint';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
