/**
 * Development and test signing keys, and tokens signed with them (jose). Never used by the
 * service itself: it only verifies. `npm run dev` generates a key pair at every start, writes it to
 * .dev/auth-key.json (git-ignored) for `npm run token`, and serves its public half as a JWKS.
 * Development keys are named `eventticket-dev-…` and the issuer is DEV_ISSUER; both are refused
 * with NODE_ENV=production (src/config/auth-config.ts, src/config/dev-key-check.ts).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { devDir } from '../lib/dev-env';
import { DEV_ISSUER, DEV_KEY_ID_PREFIX } from '../../src/config/auth-config';
import type { Role } from '../../src/http/auth/principal';

export const DEV_AUDIENCE = 'eventticket-api';
/** Where `npm run dev` keeps its signing key for `npm run token`: `<DEV_DIR or .dev>/auth-key.json`. */
export function devKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(devDir(env), 'auth-key.json');
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh ES256 (P-256) key pair named `eventticket-dev-<uuid>`. */
export function generateSigningKey(kidPrefix = DEV_KEY_ID_PREFIX): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: `${kidPrefix}${randomUUID()}`, privateKey, publicKey };
}

/** The public half as a JWKS document (RFC 7517 §5). */
export function jwksOf(key: SigningKey): { keys: object[] } {
  return { keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: 'ES256', use: 'sig' }] };
}

/** The public half as an SPKI PEM, for AUTH_PUBLIC_KEY. */
export function publicPemOf(key: SigningKey): string {
  return key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

export interface TokenClaims {
  sub: string;
  roles: Role[];
  issuer?: string;
  audience?: string;
  /** Lifetime (s); negative for an already expired token. Default 12 h. */
  ttlSeconds?: number;
  /** The claim carrying the roles (AUTH_ROLES_CLAIM); default `roles`. */
  rolesClaim?: string;
}

/** A signed JWT (ES256, kid in the header) with iss, aud, sub, iat, exp and the roles claim. */
export async function mintToken(key: SigningKey, claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const ttl = claims.ttlSeconds ?? 12 * 3600;
  return new SignJWT({ [claims.rolesClaim ?? 'roles']: claims.roles })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(claims.issuer ?? DEV_ISSUER)
    .setAudience(claims.audience ?? DEV_AUDIENCE)
    .setSubject(claims.sub)
    .setIssuedAt(ttl < 0 ? now + ttl - 60 : now)
    .setExpirationTime(now + ttl)
    .sign(key.privateKey);
}

/**
 * The same token as mintToken, signed synchronously with node:crypto (ES256 as RFC 7518 §3.4: the
 * r||s form), for callers that cannot await (a supertest chain, a fast-check generator). `extra`
 * adds or overrides header fields (`alg`, to forge) and claims.
 */
export function signTokenSync(
  key: SigningKey,
  claims: TokenClaims,
  extra: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const ttl = claims.ttlSeconds ?? 12 * 3600;
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'ES256', kid: key.kid, typ: 'JWT', ...extra.header })}.${part({
    iss: claims.issuer ?? DEV_ISSUER,
    aud: claims.audience ?? DEV_AUDIENCE,
    sub: claims.sub,
    [claims.rolesClaim ?? 'roles']: claims.roles,
    iat: ttl < 0 ? now + ttl - 60 : now,
    exp: now + ttl,
    ...extra.claims,
  })}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString(
    'base64url',
  );
  return `${input}.${signature}`;
}

/** Writes the key for `npm run token` (mode 0600). */
export function saveDevKey(key: SigningKey, file = devKeyFile()): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const privateJwk = key.privateKey.export({ format: 'jwk' });
  writeFileSync(
    file,
    JSON.stringify({ kid: key.kid, privateJwk, issuer: DEV_ISSUER, audience: DEV_AUDIENCE }, null, 2),
    { mode: 0o600 },
  );
}

/** The key `npm run dev` saved. Throws with a hint when there is none. */
export function loadDevKey(file = devKeyFile()): SigningKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no development key at ${file}: start \`npm run dev\` first (it generates one)`);
  }
  const saved = JSON.parse(text) as { kid: string; privateJwk: JsonWebKey };
  const privateKey = createPrivateKey({ key: saved.privateJwk, format: 'jwk' });
  return { kid: saved.kid, privateKey, publicKey: createPublicKey(privateKey) };
}
