/**
 * AWS errors are told apart one way in this codebase: by their `name`, which is the service's
 * error code (`ConditionalCheckFailedException`, `ResourceInUseException`, ...), never by
 * `instanceof`. A name survives two copies of the SDK in one process and the document client's
 * re-thrown errors; a class check does not.
 */

/** The error's `name` (an AWS error code for SDK errors), or undefined for a non-object. */
export function awsErrorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined;
}
