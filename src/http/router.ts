/**
 * The one way a route file creates its Router: strict and case-sensitive matching, so a route
 * answers on exactly one spelling of its path (issue 22, kind 2). Express matches
 * case-insensitively and ignores a trailing slash by default, and a Router does not inherit the
 * app's settings; a guard keyed on a path pattern (a limiter, a role) could then miss a spelling
 * that still reached the handler (`POST /ORDERS`). Other spellings — letter case, a trailing
 * slash, doubled slashes, percent-encoded letters, `;` parameters, dot segments — match no route
 * and are answered 404 (src/api/app.ts). Limits and roles are attached to the route declaration
 * itself, beside its handler, so no spelling can reach one without the other.
 */
import { Router } from 'express';

/** Router options for every router of the API (and the app's own 'case sensitive routing' / 'strict routing'). */
export const ROUTER_OPTIONS = { caseSensitive: true, strict: true } as const;

export function apiRouter(): Router {
  return Router(ROUTER_OPTIONS);
}
