/**
 * The one "never retry this" error: a message that can never succeed (unknown saga, impossible
 * command) goes straight to the DLQ with this error's message as its reason. Every error of that
 * kind extends this class (PermanentCommandError, UnknownSagaError); the consumer checks only
 * `instanceof PoisonMessageError`, so no layer translates one into another.
 */
export class PoisonMessageError extends Error {
  override readonly name: string = 'PoisonMessageError';
}

/**
 * Transient: leave the message on the queue and look again after `retryAfterMs`. A wait, not a
 * failure: it does not count against MAX_RECEIVES (SQS's own redrive still bounds it).
 */
export class RetryLaterError extends Error {
  override readonly name: string = 'RetryLaterError';
  constructor(
    message: string,
    readonly retryAfterMs = 1000,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
