/**
 * The console's page loads carry their bearer token in a cookie, because a browser navigation
 * cannot send an Authorization header. The sign-in page (src/console/assets/console.js) writes
 * `et_token=<JWT>; Path=/console; SameSite=Strict` beside its sessionStorage copy.
 *
 * The cookie is read only for GET/HEAD of a console page (`/console...`, not its assets): reads,
 * never actions. Every action (retry, compensate, redrive, delete) is a fetch with an
 * Authorization header, so a forged cross-site request carries no credential at all; SameSite=
 * Strict keeps the cookie off cross-site navigations too. The cookie is not HttpOnly (the page's
 * script sets it), which docs/security.md names as the cost of a login page without a server
 * session.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const CONSOLE_TOKEN_COOKIE = 'et_token';
const CONSOLE_PAGE = /^\/console(\/(?!assets\/)[^?]*)?$/;

/** The token in the console cookie, for a GET/HEAD of a console page; undefined otherwise. */
export function consoleCookieToken(method: string, path: string, headers: IncomingHttpHeaders): string | undefined {
  if ((method !== 'GET' && method !== 'HEAD') || !CONSOLE_PAGE.test(path)) return undefined;
  const cookie = headers.cookie;
  if (typeof cookie !== 'string' || cookie.length > 16_384) return undefined;
  for (const part of cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CONSOLE_TOKEN_COOKIE) return value.join('=') || undefined;
  }
  return undefined;
}

/** True for a browser asking for a console page (it is sent to the sign-in page, not a 401 body). */
export function isConsolePageLoad(method: string, path: string, accept: string | undefined): boolean {
  return method === 'GET' && CONSOLE_PAGE.test(path) && (accept ?? '').includes('text/html');
}
