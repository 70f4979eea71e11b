/**
 * What placing an order needs of the waiting room (src/admission/waiting-room.ts implements it):
 * the use cases of src/orders/ name this port, never the room itself, so that src/admission/ (the
 * admitter) may call them without an import loop.
 */
import type { PlaceOrder } from '../runtime/saga-runtime';

/**
 * The key's order ended in the room without a saga (`sold-out` when admitted, or `cancelled` while
 * queued): the same request is answered with that end, nothing is queued or placed again.
 */
export class EndedWithoutSagaError extends Error {
  override name = 'EndedWithoutSagaError';
  constructor(
    readonly orderId: string,
    readonly outcome: 'sold-out' | 'cancelled',
  ) {
    super(`order ${orderId} ended without a saga: ${outcome}`);
  }
}

export type Entry =
  /** `already`: this order held a place before (a replay): the place is not this request's to give back. */
  | { admitted: true; degraded?: boolean; already?: boolean }
  /** `already`: the key's first request is the one waiting (this is a replay of it). */
  | { admitted: false; position: number; estimatedWaitSeconds: number; already?: boolean };

/** Where a buyer stands: waiting at `position` (1 = next), admitted (the order exists), or told without a saga. */
export type Standing =
  | { state: 'waiting'; position: number; estimatedWaitSeconds: number }
  | { state: 'admitted' }
  | { state: 'sold-out' }
  | { state: 'unknown' };

/** The waiting room as placing an order uses it (see WaitingRoom for each method's contract). */
export interface OrderWaitingRoom {
  /**
   * @throws IdempotencyKeyReusedError when the key's first request was a different one.
   * @throws EndedWithoutSagaError when the key's order already ended in the room without a saga.
   */
  enter(order: PlaceOrder): Promise<Entry>;
  /** `withdraw`: the entry was made in error; forgotten with its fingerprint. `eventId`: the order's, if known. */
  leave(orderId: string, withdraw?: boolean, eventId?: string): Promise<boolean>;
  /** Gives the order's place back. */
  ended(eventId: string, orderId: string, keepFingerprint?: boolean): Promise<boolean>;
  /** The fingerprint of the key's first request while the order waits or holds a place. */
  fingerprintOf(orderId: string): Promise<string | undefined>;
  standing(orderId: string): Promise<Standing>;
  /** The admitted request is placed: forget it. */
  placed(orderId: string): Promise<void>;
  /** An admitted buyer is told sold out; no saga. */
  toldSoldOut(eventId: string, orderId: string): Promise<void>;
}
