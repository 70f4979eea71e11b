/**
 * Text must be well-formed: every string and object key in the body, every query parameter and
 * every path segment. A lone surrogate (`"\ud800"` in JSON) is valid JSON but not Unicode; DynamoDB
 * refuses to store it (UTF-8 cannot encode it), so letting it through turned a customer's cancel
 * into a 500 on every retry. Refused here with 400, before any handler reads or writes anything.
 * Path segments must also be valid percent-encoding of UTF-8 (RFC 3986 §2.1, RFC 3629).
 *
 * Header values need no check: Node reads them as Latin-1, which cannot hold a surrogate; those we
 * store are restricted to ASCII by their own patterns.
 */
import type { NextFunction, Request, Response } from 'express';
import { ProblemError, type FieldError } from '../../http/problem';

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (no `u` flag: code units). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed (ES2024), without raising the compile target. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The JSON pointers (RFC 6901) of the first ill-formed strings or keys in `value` (at most 10). */
export function illFormedText(value: unknown, root = ''): string[] {
  const found: string[] = [];
  // Iterative: a 16 KB body can nest thousands deep.
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0 && found.length < 10) {
    const [item, pointer] = stack.pop()!;
    if (typeof item === 'string') {
      if (!isWellFormed(item)) found.push(pointer);
    } else if (Array.isArray(item)) {
      item.forEach((v, i) => stack.push([v, `${pointer}/${i}`]));
    } else if (item !== null && typeof item === 'object') {
      for (const [key, v] of Object.entries(item)) {
        const escaped = key.replace(/~/g, '~0').replace(/\//g, '~1');
        if (!isWellFormed(key)) found.push(`${pointer}/${key.replace(LONE_SURROGATE, '\uFFFD')}`);
        else stack.push([v, `${pointer}/${escaped}`]);
      }
    }
  }
  return found;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** 400 for a path that is not percent-encoded UTF-8, or a query or body with ill-formed text. */
export function requireWellFormedText() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const errors: FieldError[] = [];
    for (const segment of req.path.split('/')) {
      const decoded = decodeSegment(segment);
      if (decoded === undefined || !isWellFormed(decoded)) {
        errors.push({ field: 'path', message: `segment "${segment.slice(0, 40)}" is not percent-encoded UTF-8` });
        break;
      }
    }
    for (const pointer of illFormedText(req.query))
      errors.push({ field: `query${pointer}`, message: 'is not well-formed Unicode (lone surrogate)' });
    for (const pointer of illFormedText(req.body))
      errors.push({ field: pointer, message: 'is not well-formed Unicode (lone surrogate)' });
    if (errors.length === 0) {
      next();
      return;
    }
    next(new ProblemError('validation', 'the request holds text that is not well-formed Unicode', errors));
  };
}
