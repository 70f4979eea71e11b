/**
 * The Idempotency-Key rule, in one place (issue 22, kind 4): a key stands for one order request.
 * The request is fingerprinted once (requestFingerprint) when it arrives; wherever the key is met
 * again — queued in the waiting room, admitted but not yet placed, or placed (the saga's stored
 * requestHash) — the stored fingerprint is compared with assertSameRequest: equal, the request is
 * a replay and gets the first answer again; different, IdempotencyKeyReusedError (422
 * idempotency-key-reused over HTTP). Used by the placeOrder use case (src/orders/place-order.ts:
 * a placed saga met again, the room's fingerprint read on a replay) and the waiting room
 * (src/admission/waiting-room.ts, on entering). SagaRuntime.place does not compare: it returns the
 * saga found under the id, and the use case applies the rule.
 */
import { createHash } from 'node:crypto';

/** The key was used before for a different request: nothing was done. */
export class IdempotencyKeyReusedError extends Error {
  override name = 'IdempotencyKeyReusedError';
  constructor(message = 'this Idempotency-Key was used for a different request') {
    super(message);
  }
}

/** JSON with object keys sorted at every level, undefined members dropped: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What an order request is made of, as the fingerprint reads it (the validated body, customerId set). */
export interface FingerprintedRequest {
  customerId: string;
  eventId: string;
  items: ReadonlyArray<{ ticketType: string; quantity: number }>;
  paymentToken: string;
}

/**
 * The fingerprint of an order request: sha256 (hex) of its canonical JSON with the items sorted by
 * ticket type, so equal orders give equal fingerprints whatever the key order or item order.
 * Fields other than the order's (a correlation id) are not part of it.
 */
export function requestFingerprint(request: FingerprintedRequest & Record<string, unknown>): string {
  const items = [...request.items].sort((a, b) =>
    a.ticketType < b.ticketType ? -1 : a.ticketType > b.ticketType ? 1 : 0,
  );
  return createHash('sha256')
    .update(canonicalJson({ ...request, items }), 'utf8')
    .digest('hex');
}

/**
 * The rule: a request met again under its key must have the fingerprint stored with the key's first
 * request. `stored` undefined: nothing stored where it was looked up (the caller compares elsewhere).
 * True when the request met again is a replay.
 */
export function sameRequest(stored: string | undefined, given: string): boolean {
  return stored === undefined || stored === given;
}

/**
 * The rule (sameRequest) as a guard.
 * @throws IdempotencyKeyReusedError when the fingerprints differ.
 */
export function assertSameRequest(stored: string | undefined, given: string): void {
  if (!sameRequest(stored, given)) throw new IdempotencyKeyReusedError();
}
