/**
 * Headers that must appear at most once. Node joins repeated lines of most headers with ", "
 * (two X-Operator-Id lines became the identity "ann, bob") and silently keeps only the first of
 * others (Authorization, Content-Type: RFC 9110 §5.3 lets a recipient do either only for list
 * headers). Either way the value we would read is not what the client sent, so a repeat of any
 * header whose value is stored, trusted or decides how the body is read is a 400 before anything
 * else runs. Counted on `req.rawHeaders`, which keeps every line.
 */
import type { NextFunction, Request, Response } from 'express';
import { ProblemError } from '../../http/problem';

export const SINGLE_VALUE_HEADERS: readonly string[] = [
  'authorization', // who the caller is
  'idempotency-key', // decides the order id
  'x-correlation-id', // stored on the saga, in every log line
  'x-operator-id', // no longer read (the token's sub is the operator), still never ambiguous
  'content-type',
  'content-length',
  'content-encoding',
  'host',
  'origin', // decides CORS
];

export function rejectRepeatedHeaders() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const seen = new Set<string>();
    const repeated = new Set<string>();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (!SINGLE_VALUE_HEADERS.includes(name)) continue;
      if (seen.has(name)) repeated.add(name);
      seen.add(name);
    }
    if (repeated.size === 0) {
      next();
      return;
    }
    const names = [...repeated];
    next(
      new ProblemError(
        'invalid-header',
        `these headers must appear once: ${names.join(', ')}`,
        names.map((field) => ({ field, message: 'must appear once' })),
      ),
    );
  };
}
