/**
 * The only requests served without a bearer token. Everything else needs one (401 otherwise).
 * Each entry is here for a reason a reviewer can check:
 * - GET/HEAD /actuator/health: load balancers and orchestrators probe it without credentials;
 *   it says UP/DEGRADED/DOWN and names no customer data.
 * - GET/HEAD /console, /console/ and /console/assets/*: the operator console's static shell and
 *   assets (HTML, JS, CSS). A browser cannot attach a bearer token to a page load; the shell holds
 *   no data and asks for a token (kept in sessionStorage) before it calls the API.
 * Anonymous requests are rate-limited per IP (src/api/guards/rate-limits.ts).
 */
const PUBLIC: ReadonlyArray<{ methods: readonly string[]; pattern: RegExp }> = [
  { methods: ['GET', 'HEAD'], pattern: /^\/actuator\/health\/?$/ },
  { methods: ['GET', 'HEAD'], pattern: /^\/console\/?$/ },
  { methods: ['GET', 'HEAD'], pattern: /^\/console\/assets\/[A-Za-z0-9._/-]+$/ },
];

/** True when `method path` is served without a token. `path` is the request path before decoding. */
export function isPublic(method: string, path: string): boolean {
  return PUBLIC.some((p) => p.methods.includes(method) && p.pattern.test(path) && !path.includes('..'));
}
