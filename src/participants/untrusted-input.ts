/**
 * Checks on values that reach a participant from outside the type system (a message body, a PUT
 * body), whatever their declared type says.
 */

/**
 * True when `value` is an array. Unlike `Array.isArray`, it does not narrow a typed list to
 * `any[]` (TypeScript's narrowing of `readonly T[]`), so the caller keeps its element type.
 */
export function isList(value: unknown): boolean {
  return Array.isArray(value);
}
