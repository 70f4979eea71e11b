/**
 * Authentication in two steps, with the rate limiter between them (src/api/app.ts):
 * 1. identify(): verifies `Authorization: Bearer <jwt>` when present and puts the Principal on
 *    `res.locals.principal`, or the reason it was refused on `res.locals.authFailure`. It never
 *    answers by itself, so refused and anonymous requests are counted per IP by the limiter.
 * 2. requireAuthentication(): answers 401 (problem+json, `WWW-Authenticate: Bearer …`, RFC 6750
 *    §3) to every request without a principal, except the public requests (the routes declared with no
 *    roles, and static assets: src/http/route.ts publicRequests).
 *    A JWKS that cannot be fetched is a 503: the caller did nothing wrong.
 */
import type { NextFunction, Request, Response } from 'express';
import { ctxOf } from '../context';
import { ProblemError } from '../problem';
import type { Principal } from './principal';
import { consoleCookieToken, isConsolePageLoad } from './console-cookie';
import { InvalidTokenError, KeysUnavailableError, type TokenVerifier } from './verifier';

/** The realm in WWW-Authenticate. */
export const REALM = 'eventticket';

type AuthFailure = { kind: 'invalid'; reason: string } | { kind: 'unavailable'; reason: string };

/** Longest Authorization header read (a JWT with many groups is a few KB). */
const MAX_AUTHORIZATION_LENGTH = 8192;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/;

/**
 * The JWT of an `Authorization: Bearer <jwt>` header (RFC 6750 §2.1), or undefined when the header
 * is longer than 8 KB or not of that form. The one parser of the header, for HTTP and WebSocket.
 */
export function bearerTokenOf(header: string): string | undefined {
  return header.length <= MAX_AUTHORIZATION_LENGTH ? BEARER.exec(header)?.[1] : undefined;
}

export function identify(verify: TokenVerifier) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const cookieToken = consoleCookieToken(req.method, req.path, req.headers);
    const header = req.headers.authorization ?? (cookieToken === undefined ? undefined : `Bearer ${cookieToken}`);
    if (header === undefined) {
      next();
      return;
    }
    const token = bearerTokenOf(header);
    if (token === undefined) {
      res.locals.authFailure = {
        kind: 'invalid',
        reason: 'the Authorization header must be "Bearer <JWT>"',
      } satisfies AuthFailure;
      next();
      return;
    }
    try {
      const principal = await verify(token);
      res.locals.principal = principal satisfies Principal;
      const ctx = ctxOf(res);
      // Every later log line of this request says who made it.
      ctx.log = ctx.log.child({ sub: principal.sub });
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        // The full reason for the operator; the answer carries only error.reason.
        if (error.logDetail !== undefined)
          ctxOf(res).log.warn('bearer token refused', { reason: error.reason, detail: error.logDetail });
        res.locals.authFailure = { kind: 'invalid', reason: error.reason } satisfies AuthFailure;
      } else if (error instanceof KeysUnavailableError) {
        ctxOf(res).log.error('token keys unavailable', { error: error.message });
        res.locals.authFailure = {
          kind: 'unavailable',
          reason: 'the token issuer keys cannot be fetched; retry later',
        } satisfies AuthFailure;
      } else {
        next(error);
        return;
      }
    }
    next();
  };
}

/** WWW-Authenticate for a 401 (RFC 6750 §3): the error code only when a token was sent. */
export function challenge(reason?: string): string {
  if (reason === undefined) return `Bearer realm="${REALM}"`;
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${reason.replace(/["\\]/g, "'")}"`;
}

/** `isPublic(method, path)`: the requests served without a token (src/http/route.ts publicRequests). */
export function requireAuthentication(isPublic: (method: string, path: string) => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (res.locals.principal !== undefined || isPublic(req.method, req.path)) {
      next();
      return;
    }
    const failure = res.locals.authFailure as AuthFailure | undefined;
    if (failure?.kind === 'unavailable') {
      next(new ProblemError('service-unavailable', failure.reason, undefined, { retryAfter: 5 }));
      return;
    }
    // A person opening a console page without a (valid) token is sent to sign in, not shown JSON.
    if (isConsolePageLoad(req.method, req.path, req.headers.accept)) {
      res.redirect(303, '/console/login');
      return;
    }
    const detail = failure
      ? `the bearer token was refused: ${failure.reason}`
      : 'this request needs a bearer token (Authorization: Bearer <JWT>)';
    next(
      new ProblemError(
        'unauthorized',
        detail,
        [{ field: 'Authorization', message: failure?.reason ?? 'is required' }],
        { wwwAuthenticate: challenge(failure?.reason) },
      ),
    );
  };
}
