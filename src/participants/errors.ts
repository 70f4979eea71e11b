/**
 * The errors participants throw instead of replying. Each class tells the runtime what to do with
 * the message: retry it later, or stop retrying (it is a bug or an operator problem: DLQ).
 */

import { PoisonMessageError, RetryLaterError } from '../messaging/errors';

export { RetryLaterError };

/** Transient: every attempt lost a race (TransactionConflict, or the state kept moving). */
export class ContentionError extends RetryLaterError {
  override readonly name: string = 'ContentionError';
}

export type PermanentCommandErrorCode =
  /** The command itself is malformed (an empty reservation id, a negative amount). */
  | 'invalid-command'
  /** The command does not apply to the recorded state (confirming a released reservation). */
  | 'illegal-state'
  /** The stored data breaks an invariant (fewer reserved seats than a reservation holds). */
  | 'invariant-broken';

/**
 * Retrying will not help: the saga never sends this command in this state. A PoisonMessageError,
 * so the consumer sends the message to the DLQ with this message as the reason.
 */
export class PermanentCommandError extends PoisonMessageError {
  override readonly name: string = 'PermanentCommandError';
  constructor(
    readonly code: PermanentCommandErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Inventory admin: a change that would leave a ticket type with negative availability. */
export class InventoryConflictError extends Error {
  override readonly name: string = 'InventoryConflictError';
  constructor(
    message: string,
    readonly details: { eventId: string; ticketType?: string; availableQuantity?: number; delta?: number },
  ) {
    super(message);
  }
}

/** Inventory admin: the request is malformed (a negative total, a duplicated ticket type). */
export class InvalidInventoryError extends Error {
  override readonly name: string = 'InvalidInventoryError';
}

/** No inventory is recorded for this event. */
export class UnknownEventError extends Error {
  override readonly name: string = 'UnknownEventError';
  constructor(readonly eventId: string) {
    super(`no inventory for event ${eventId}`);
  }
}
