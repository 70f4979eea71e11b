/**
 * The development token issuer of `docker compose up` (the `issuer` service): a fresh ES256 key
 * pair at every start, its public half served as a JWKS, and a token endpoint for any role.
 *
 *   GET /.well-known/jwks.json                      the JWKS the app verifies with (AUTH_JWKS_URL)
 *   GET /token?role=customer&sub=customer-1[&ttl=s]  a signed JWT, as text (role may repeat or be
 *                                                   comma-separated; ttl 1…86400 s, default 12 h)
 *   GET /health                                     200 once listening (the compose healthcheck)
 *
 * Why a service and not a key in the image: the app then verifies tokens exactly as in production,
 * through a JWKS URL of an issuer it does not control, and the runtime image carries no signing
 * key, no token command and no dev dependency. The private key never leaves this process's memory;
 * a restart of the issuer makes earlier tokens unverifiable (mint new ones).
 *
 * Production refuses all of it three times over (src/config/auth-config.ts, dev-key-check.ts):
 * the issuer is the development issuer `urn:eventticket:dev`, the key ids start with
 * `eventticket-dev-`, and the JWKS URL is http. This process itself refuses NODE_ENV=production.
 *
 * Dependency-free on purpose (node: modules only): compose runs this very file, mounted read-only
 * into the stock node:24 image, with Node's type stripping (erasable TypeScript only). The test
 * test/infra/compose-boot.test.ts runs it the same way on the machine.
 *
 * Environment: ISSUER_PORT (default 9000), ISSUER_HOST (default 0.0.0.0, every interface of the
 * container; compose publishes it on the host's loopback only).
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** The same values as DEV_ISSUER, DEV_KEY_ID_PREFIX and DEV_AUDIENCE (the test checks they agree). */
const ISSUER = 'urn:eventticket:dev';
const KEY_ID_PREFIX = 'eventticket-dev-';
const AUDIENCE = 'eventticket-api';
/** The service's roles (src/http/auth/principal.ts ROLES; the test checks they agree). */
const ROLES = ['customer', 'organizer', 'operator', 'operator-repair'];
const DEFAULT_TTL_SECONDS = 12 * 3600;
const MAX_TTL_SECONDS = 24 * 3600;
/** A principal's sub: 1–255 visible ASCII characters (src/http/auth/principal.ts). */
const SUB = /^[\x21-\x7e]{1,255}$/;

if (process.env.NODE_ENV === 'production') {
  console.error('the development token issuer does not run with NODE_ENV=production');
  process.exit(1);
}

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = `${KEY_ID_PREFIX}compose-${randomUUID()}`;
const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] });

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS (RFC 7515), ES256 with the r||s signature of RFC 7518 §3.4. */
function mint(sub: string, roles: string[], ttlSeconds: number): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${base64url({ alg: 'ES256', kid, typ: 'JWT' })}.${base64url({
    iss: ISSUER,
    aud: AUDIENCE,
    sub,
    roles,
    iat: now,
    exp: now + ttlSeconds,
  })}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** An RFC 9457 problem, like the API's own 4xx answers. */
function problem(res: ServerResponse, status: number, detail: string): void {
  res
    .writeHead(status, { 'content-type': 'application/problem+json' })
    .end(JSON.stringify({ type: 'about:blank', title: status === 404 ? 'Not Found' : 'Bad Request', status, detail }));
}

function token(url: URL, res: ServerResponse): void {
  const roles = url.searchParams.getAll('role').flatMap((r) => r.split(','));
  const sub = url.searchParams.get('sub') ?? '';
  const ttlText = url.searchParams.get('ttl');
  const ttl = ttlText === null ? DEFAULT_TTL_SECONDS : Number(ttlText);
  if (roles.length === 0) return problem(res, 400, `role is required: one or more of ${ROLES.join(', ')}`);
  const unknown = roles.filter((r) => !ROLES.includes(r));
  if (unknown.length > 0) return problem(res, 400, `unknown role ${unknown.join(', ')}: use ${ROLES.join(', ')}`);
  if (!SUB.test(sub)) return problem(res, 400, 'sub is required: 1-255 visible ASCII characters');
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS)
    return problem(res, 400, `ttl must be a whole number of seconds, 1-${MAX_TTL_SECONDS}`);
  res
    .writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
    .end(`${mint(sub, [...new Set(roles)], ttl)}\n`);
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://issuer');
  if (req.method !== 'GET') return problem(res, 404, 'only GET is served');
  if (url.pathname === '/.well-known/jwks.json') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(jwks);
  } else if (url.pathname === '/token') token(url, res);
  else if (url.pathname === '/health') res.writeHead(200, { 'content-type': 'text/plain' }).end('UP\n');
  else problem(res, 404, `${url.pathname} is not served here`);
});

const port = Number(process.env.ISSUER_PORT ?? 9000);
const host = process.env.ISSUER_HOST ?? '0.0.0.0';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`ISSUER_PORT: ${process.env.ISSUER_PORT} is not a port (0-65535)`);
  process.exit(2);
}
server.listen(port, host, () => {
  console.log(
    `development token issuer on ${host}:${port} (key ${kid}); a token: ` +
      `curl -s 'http://localhost:${port}/token?role=customer&sub=customer-1'`,
  );
});
// PID 1 in its container: stop at once on docker's SIGTERM instead of waiting for its SIGKILL.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));
