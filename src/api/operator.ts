/**
 * Which saga version an operator action was decided on. (Who the operator is comes from the
 * verified token: src/http/auth/principal.ts, never from a header.)
 */
import type { RouteInput } from '../http/route';
import { ProblemError } from '../http/problem';

/** A saga's version as an entity tag (RFC 9110 §8.8.3): `"12"`. */
export function sagaEtag(version: number): string {
  return `"${version}"`;
}

/**
 * The saga version an action was decided on, from `If-Match: "<version>"` (RFC 9110 §13.1.1);
 * undefined when absent or `*`. A malformed value is a 400, never ignored.
 */
export function expectedVersionOf(headers: RouteInput['headers']): number | undefined {
  const value = headers['If-Match'];
  if (value === undefined || value.trim() === '*') return undefined;
  const match = /^\s*"([1-9][0-9]{0,14})"\s*$/.exec(value);
  if (!match) {
    throw new ProblemError('invalid-header', 'If-Match must be one saga version as a strong entity tag, e.g. "12"', [
      { field: 'If-Match', message: 'must be a quoted saga version, e.g. "12"' },
    ]);
  }
  return Number(match[1]);
}
