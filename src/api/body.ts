/**
 * JSON bodies: only `application/json` (or `+json`), at most config.maxBodyBytes, strict (an
 * object or an array). A body of another type is refused with 415 before it is read; a GET or a
 * bodiless POST passes through with `req.body` undefined.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ProblemError } from '../http/problem';

const JSON_TYPES = ['application/json', 'application/*+json'];

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

export function jsonBody(maxBodyBytes: number): RequestHandler[] {
  const parse = express.json({ limit: maxBodyBytes, strict: true, type: JSON_TYPES });
  const requireJson = (req: Request, _res: Response, next: NextFunction): void => {
    if (hasBody(req) && !req.is(JSON_TYPES)) {
      next(
        new ProblemError(
          'unsupported-media-type',
          `request bodies must be application/json, not ${req.get('content-type') ?? 'untyped'}`,
          [{ field: 'content-type', message: 'must be application/json' }],
        ),
      );
      return;
    }
    next();
  };
  return [requireJson, parse];
}

interface BodyParserError {
  type: string;
  status?: number;
  limit?: number;
}

function isBodyParserError(error: unknown): error is Error & BodyParserError {
  return error instanceof Error && typeof (error as Partial<BodyParserError>).type === 'string';
}

/** Maps body-parser's errors to problems. Returns undefined for anything else. */
export function bodyProblem(error: unknown): ProblemError | undefined {
  if (!isBodyParserError(error)) return undefined;
  switch (error.type) {
    case 'entity.parse.failed':
      return new ProblemError('malformed-json', 'the request body is not valid JSON (an object is expected)');
    case 'entity.too.large':
      return new ProblemError('body-too-large', `the request body exceeds ${error.limit ?? 'the limit of'} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ProblemError('unsupported-media-type', error.message);
    case 'request.size.invalid':
    case 'request.aborted':
      return new ProblemError('validation', error.message);
    default:
      return undefined;
  }
}
