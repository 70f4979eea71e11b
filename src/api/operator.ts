/**
 * Who an operator action is recorded with, and which saga version it was decided on.
 *
 * `operatorOf` is the one place the operator's identity is read. Today it is the X-Operator-Id
 * header; the authentication work (issue 12) replaces this function's body with the
 * authenticated principal, and every operator route follows.
 */
import type { Request } from 'express';
import { ProblemError } from './problem';
import { OPERATOR_ID_REGEX } from './schemas';

export const OPERATOR_HEADER = 'X-Operator-Id';

/** The operator behind an action: required, 1-100 printable characters. Returns `operator:<id>`. */
export function operatorOf(req: Request): string {
  const id = req.get(OPERATOR_HEADER);
  if (id === undefined || id === '') {
    throw new ProblemError('invalid-header', `${OPERATOR_HEADER} is required: every operator action is recorded with who did it`, [
      { field: OPERATOR_HEADER, message: 'is required' },
    ]);
  }
  if (!OPERATOR_ID_REGEX.test(id)) {
    throw new ProblemError('invalid-header', `${OPERATOR_HEADER} must be 1 to 100 printable ASCII characters`, [
      { field: OPERATOR_HEADER, message: 'must be 1 to 100 printable ASCII characters, no leading or trailing space' },
    ]);
  }
  return `operator:${id}`;
}

/** A saga's version as an entity tag (RFC 9110 §8.8.3): `"12"`. */
export function sagaEtag(version: number): string {
  return `"${version}"`;
}

/**
 * The saga version an action was decided on, from `If-Match: "<version>"` (RFC 9110 §13.1.1);
 * undefined when absent or `*`. A malformed value is a 400, never ignored.
 */
export function expectedVersionOf(req: Request): number | undefined {
  const value = req.get('If-Match');
  if (value === undefined || value.trim() === '*') return undefined;
  const match = /^\s*"([1-9][0-9]{0,14})"\s*$/.exec(value);
  if (!match) {
    throw new ProblemError('invalid-header', 'If-Match must be one saga version as a strong entity tag, e.g. "12"', [
      { field: 'If-Match', message: 'must be a quoted saga version, e.g. "12"' },
    ]);
  }
  return Number(match[1]);
}
