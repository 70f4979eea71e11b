/** A message that can never succeed (unknown saga, impossible command): straight to the DLQ. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
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
