/**
 * Real tokens for tests: one ES256 test key per test process, its public half given to the
 * service as AUTH_PUBLIC_KEY (TEST_AUTH_ENV), and tokens signed with it. Nothing bypasses the
 * service's verification; hostile tokens (expired, wrong audience, wrong key, alg none) are here too.
 */
import {
  generateSigningKey,
  mintToken,
  publicPemOf,
  signTokenSync,
  type SigningKey,
} from '../../scripts/auth/dev-keys';
import type { Role } from '../../src/http/auth/principal';

export const TEST_ISSUER = 'https://issuer.test.eventticket.dev/';
export const TEST_AUDIENCE = 'eventticket-test-api';

export const testKey: SigningKey = generateSigningKey('test-');
/** A key the service does not trust. */
export const strangerKey: SigningKey = generateSigningKey('stranger-');

/**
 * What a test service needs to verify the test tokens, plus rate limits high enough that a test
 * is never throttled unless it sets its own.
 */
export const TEST_AUTH_ENV: Readonly<Record<string, string>> = {
  AUTH_ISSUER: TEST_ISSUER,
  AUTH_AUDIENCE: TEST_AUDIENCE,
  AUTH_PUBLIC_KEY: publicPemOf(testKey),
  AUTH_CLOCK_SKEW_SECONDS: '5',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000',
  RATE_LIMIT_CUSTOMER_PER_MINUTE: '100000',
  RATE_LIMIT_ORGANIZER_PER_MINUTE: '100000',
  RATE_LIMIT_OPERATOR_PER_MINUTE: '100000',
  RATE_LIMIT_ORDERS_PER_MINUTE: '100000',
};

export interface TokenOptions {
  key?: SigningKey;
  audience?: string;
  issuer?: string;
  ttlSeconds?: number;
}

/** A valid test token for `sub` with these roles (or spoiled by `options`). */
export function tokenFor(roles: Role | Role[], sub: string, options: TokenOptions = {}): Promise<string> {
  return mintToken(options.key ?? testKey, {
    sub,
    roles: Array.isArray(roles) ? roles : [roles],
    issuer: options.issuer ?? TEST_ISSUER,
    audience: options.audience ?? TEST_AUDIENCE,
    ttlSeconds: options.ttlSeconds,
  });
}

/** `{ Authorization: 'Bearer …' }` for a test token. */
export async function authHeader(
  roles: Role | Role[],
  sub: string,
  options: TokenOptions = {},
): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await tokenFor(roles, sub, options)}` };
}

/** An unsigned token (`alg: none`) claiming the given roles. */
export function unsignedToken(roles: Role[], sub: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub, roles, iat: now, exp: now + 3600 })}.`;
}

/** The same token as tokenFor, signed synchronously so a supertest chain can set it inline. */
export function bearer(roles: Role | Role[], sub: string, options: TokenOptions = {}): Record<string, string> {
  const token = signTokenSync(options.key ?? testKey, {
    sub,
    roles: Array.isArray(roles) ? roles : [roles],
    issuer: options.issuer ?? TEST_ISSUER,
    audience: options.audience ?? TEST_AUDIENCE,
    ttlSeconds: options.ttlSeconds ?? 3600,
  });
  return { Authorization: `Bearer ${token}` };
}

/** Headers of the usual identities (sub chosen by the caller for customers). */
export const as = {
  customer: (sub: string) => bearer('customer', sub),
  organizer: (sub = 'org-1') => bearer('organizer', sub),
  operator: (sub = 'op-ann') => bearer('operator', sub),
  repair: (sub = 'op-bob') => bearer('operator-repair', sub),
};
