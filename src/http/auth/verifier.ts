/**
 * Bearer-token verification with jose: signature (JWKS or one static key, asymmetric algorithms
 * only, so `alg: none` and HMAC confusion are refused), `iss`, `aud`, `exp`/`nbf` within the
 * configured clock skew, and a usable `sub`. The roles come from the configured claim.
 *
 * A token verified once is taken as verified again, without its signature being checked, until
 * its `exp` or for VERIFIED_TOKEN_TTL_MS, whichever comes first (issue 25: a buyer polling its order
 * once a second sent the same token, and each poll paid an ES256 verification). Within that window
 * jose would accept it again, since no check it passed can fail later but `exp`, unless the keys
 * change: a key taken out of the JWKS stops tokens it signed at most VERIFIED_TOKEN_TTL_MS later
 * (jose keeps a fetched key set for 10 minutes anyway). docs/security.md, "Verified tokens".
 */
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { AuthConfig } from '../../config/auth-config';
import { rolesFrom, type Principal } from './principal';

/** A `sub` we record and log: 1-255 visible ASCII characters (RFC 7519 allows any string; we are stricter). */
const SUBJECT = /^[\x21-\x7E]{1,255}$/;

/**
 * The token was refused: 401. `reason` goes into WWW-Authenticate's error_description; `logDetail`,
 * when given, only into the log (a rule whose exact figures an attacker should not be told).
 */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
  constructor(
    readonly reason: string,
    readonly logDetail?: string,
  ) {
    super(reason);
  }
}

/** What the answer says when the reason is only logged. */
const NOT_ACCEPTED = 'the token is not accepted';

/** The keys could not be fetched (the provider's JWKS is down or unreadable): 503, not the caller's fault. */
export class KeysUnavailableError extends Error {
  override name = 'KeysUnavailableError';
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** How long a verified token is taken as verified without checking its signature again (ms), at most. */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Verified tokens kept, at most (least recently used go first): a few MB of tokens. */
export const VERIFIED_TOKENS_KEPT = 10_000;

export interface TokenVerifierOptions {
  /** The clock (epoch ms) for `exp`, `nbf`, `iat` and the kept tokens; default Date.now. */
  now?: () => number;
  /** Verified tokens kept (0: none, every token verified every time); default VERIFIED_TOKENS_KEPT. */
  keep?: number;
}

/**
 * Builds the verifier for a configuration. The JWKS (if any) is fetched on first use and cached by
 * jose. Refused tokens are never kept; a kept one is answered with the principal of its
 * verification until its `exp` (without the clock skew: past it, jose decides again) or
 * VERIFIED_TOKEN_TTL_MS after it, whichever is first.
 */
export function createTokenVerifier(auth: AuthConfig, options: TokenVerifierOptions = {}): TokenVerifier {
  const now = options.now ?? Date.now;
  const verify = signatureVerifier(auth, now);
  const keep = options.keep ?? VERIFIED_TOKENS_KEPT;
  if (keep === 0) return verify;
  const kept = new LRUCache<string, { principal: Principal; until: number }>({ max: keep });
  return async (token: string) => {
    const at = now();
    const hit = kept.get(token);
    if (hit && at < hit.until) return hit.principal;
    const principal = await verify(token);
    // jose has required a numeric exp (requiredClaims); the skew is not added.
    const until = Math.min((principal.expiresAt ?? 0) * 1000, at + VERIFIED_TOKEN_TTL_MS);
    if (until > at) kept.set(token, { principal, until });
    return principal;
  };
}

/** The verification itself: jose's checks, then the subject and the lifetime rule. */
function signatureVerifier(auth: AuthConfig, now: () => number): TokenVerifier {
  const key: KeyObject | JWTVerifyGetKey =
    auth.keys.kind === 'jwks'
      ? createRemoteJWKSet(new URL(auth.keys.url), {
          timeoutDuration: 3000,
          cooldownDuration: 30_000,
          cacheMaxAge: 10 * 60_000,
        })
      : auth.keys.key;
  const options = {
    issuer: auth.issuer,
    audience: auth.audience,
    algorithms: [...auth.algorithms],
    clockTolerance: auth.clockSkewSeconds,
    // iat: the lifetime rule below needs it.
    requiredClaims: ['sub', 'exp', 'iat'],
  };
  return async (token: string) => {
    let payload: JWTPayload;
    const at = { ...options, currentDate: new Date(now()) };
    try {
      // jose's overloads want one key type per call; both branches are the same call.
      payload =
        typeof key === 'function'
          ? (await jwtVerify(token, key, at)).payload
          : (await jwtVerify(token, key, at)).payload;
    } catch (error) {
      throw classify(error);
    }
    if (typeof payload.sub !== 'string' || !SUBJECT.test(payload.sub))
      throw new InvalidTokenError('sub must be 1-255 visible ASCII characters');
    checkLifetime(payload, auth, now());
    return { sub: payload.sub, roles: rolesFrom(claimAt(payload, auth.rolesClaim)), expiresAt: payload.exp };
  };
}

/**
 * The lifetime rule (issue 22; AUTH_MAX_TOKEN_LIFETIME_SECONDS): `exp - iat` at most the configured
 * maximum, and `iat` not later than now plus the clock skew (a token "issued" in the future would
 * carry its lifetime past the maximum). jose has already required a numeric `iat` and `exp`.
 * @throws InvalidTokenError, the figures in logDetail only.
 */
function checkLifetime(payload: JWTPayload, auth: AuthConfig, nowMs: number): void {
  const iat = payload.iat as number;
  const exp = payload.exp as number;
  const lifetime = exp - iat;
  if (lifetime > auth.maxTokenLifetimeSeconds)
    throw new InvalidTokenError(
      NOT_ACCEPTED,
      `token lifetime exp - iat = ${lifetime} s exceeds AUTH_MAX_TOKEN_LIFETIME_SECONDS = ${auth.maxTokenLifetimeSeconds}`,
    );
  const now = Math.floor(nowMs / 1000);
  if (iat > now + auth.clockSkewSeconds)
    throw new InvalidTokenError(NOT_ACCEPTED, `token iat ${iat} is ${iat - now} s in the future`);
}

/** The claim by its exact name (`cognito:groups`), else by a dotted path (`realm_access.roles`). */
export function claimAt(payload: JWTPayload, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(payload, name)) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, part))
      return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function classify(error: unknown): Error {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return new KeysUnavailableError(error.message);
  if (error instanceof errors.JWTExpired) return new InvalidTokenError('the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    // A missing or malformed iat is part of the lifetime rule: logged, not answered.
    if (error.claim === 'iat') return new InvalidTokenError(NOT_ACCEPTED, `token iat refused: ${error.message}`);
    return new InvalidTokenError(`the token's ${error.claim} claim is not accepted`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new InvalidTokenError("the token's algorithm is not accepted");
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError('the token is not signed by a trusted key');
  }
  // The JWKS endpoint answered badly: jose says so with a plain JOSEError.
  if (
    error instanceof errors.JOSEError &&
    error.constructor === errors.JOSEError &&
    /JSON Web Key Set/.test(error.message)
  ) {
    return new KeysUnavailableError(error.message);
  }
  if (error instanceof errors.JOSEError) return new InvalidTokenError('the token is malformed or unsupported');
  // Not jose's verdict on the token: fetching the JWKS failed (network, TLS, HTTP status).
  return new KeysUnavailableError(error instanceof Error ? error.message : String(error));
}
