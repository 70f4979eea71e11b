/** A message that can never succeed (unknown saga, impossible command): straight to the DLQ. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}
