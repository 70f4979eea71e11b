/**
 * The only requests served without a bearer token. Everything else needs one (401 otherwise).
 * Each entry is here for a reason a reviewer can check:
 * - GET/HEAD /actuator/health: load balancers and orchestrators probe it without credentials;
 *   it says UP/DEGRADED/DOWN and names no customer data.
 * - GET/HEAD /console/login and /console/assets/*: the console's sign-in page and its static
 *   assets (JS, CSS, Swagger UI). They hold no data. Every other console page is rendered with
 *   data on the server, so it needs a token: a page load cannot carry a bearer header, so the
 *   sign-in page also puts the token in a cookie that identify() reads for console pages only
 *   (./console-cookie.ts).
 * - GET/HEAD /docs and /openapi.json: Swagger UI's page and the API description it loads. They
 *   describe the API, which is no secret (every client is given it); they hold no data.
 * Anonymous requests are rate-limited per IP (src/api/guards/rate-limits.ts).
 */
const PUBLIC: ReadonlyArray<{ methods: readonly string[]; pattern: RegExp }> = [
  { methods: ['GET', 'HEAD'], pattern: /^\/actuator\/health$/ },
  { methods: ['GET', 'HEAD'], pattern: /^\/console\/login$/ },
  { methods: ['GET', 'HEAD'], pattern: /^\/(docs|openapi\.json)$/ },
  { methods: ['GET', 'HEAD'], pattern: /^\/console\/assets\/[A-Za-z0-9._/-]+$/ },
];

/** True when `method path` is served without a token. `path` is the request path before decoding. */
export function isPublic(method: string, path: string): boolean {
  return PUBLIC.some((p) => p.methods.includes(method) && p.pattern.test(path) && !path.includes('..'));
}
