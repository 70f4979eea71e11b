/**
 * The trust boundary's configuration: how bearer tokens are verified (issuer, audience, keys,
 * algorithms, clock skew, the roles claim), the rate limits per role, the CORS allow-list and
 * how many proxies to trust for the client's IP. Read and checked once at start-up by loadConfig.
 *
 * Authentication is all or nothing: with none of the AUTH_* variables set, `auth` is undefined and
 * a process that serves the API refuses to start (src/service.ts); with some set, every missing or
 * wrong one is a ConfigError naming it.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ConfigError } from './config-error';

/** The issuer `npm run dev` signs with; refused when NODE_ENV=production. */
export const DEV_ISSUER = 'urn:eventticket:dev';
/** The key id prefix of development keys (scripts/auth/dev-keys.ts); refused when NODE_ENV=production. */
export const DEV_KEY_ID_PREFIX = 'eventticket-dev-';

/**
 * The longest a token may be valid (`exp - iat`, s) unless AUTH_MAX_TOKEN_LIFETIME_SECONDS says
 * otherwise (range: src/config/ranges.ts): a day, what OIDC providers issue at most for access
 * tokens; a stolen token is then worth a day, not until the year 2200.
 */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/** Asymmetric JWS algorithms only (RFC 7518 §3): `none` and the HMAC family are never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type JwsAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface AuthConfig {
  /** Exact `iss` every token must carry (an OIDC provider's issuer URL). */
  issuer: string;
  /** Exact `aud` (one of) every token must carry: this API's client id / resource identifier. */
  audience: string;
  /** Where the verification keys come from: the provider's JWKS, or one static public key. */
  keys: { kind: 'jwks'; url: string } | { kind: 'static'; key: KeyObject; kid: string | undefined };
  algorithms: JwsAlgorithm[];
  /** Allowed difference between our clock and the issuer's for exp/nbf/iat (s). */
  clockSkewSeconds: number;
  /**
   * The claim holding the roles: a top-level name (`roles`, `cognito:groups`) or a dotted path (`realm_access.roles`).
   */
  rolesClaim: string;
  /** NODE_ENV=production: development keys and issuers are refused, a JWKS URL must be https. */
  production: boolean;
  /**
   * The longest lifetime (`exp - iat`, s) a token may have (AUTH_MAX_TOKEN_LIFETIME_SECONDS, 60 …
   * 604,800, default 86,400). Longer tokens, and tokens without `iat`, are refused (401).
   */
  maxTokenLifetimeSeconds: number;
}

/** Requests per minute (fixed 60 s window) per principal, by role; per IP for anonymous requests. */
export interface RateLimitConfig {
  anonymousPerMinute: number;
  customerPerMinute: number;
  organizerPerMinute: number;
  operatorPerMinute: number;
  /** POST /orders per minute per customer, on top of the request limit. */
  ordersPerMinute: number;
}

export interface SecurityConfig {
  rateLimits: RateLimitConfig;
  /** Origins (scheme://host[:port]) a browser may call the API from; empty: no cross-origin access. */
  corsOrigins: string[];
  /**
   * How many reverse proxies (load balancers) in front of the API to trust for X-Forwarded-For; 0: use the socket's
   * address.
   */
  trustProxyHops: number;
}

const count = { type: 'string', pattern: '^[1-9][0-9]{0,6}$' } as const;

/** The JSON-schema properties of the variables read here (merged into config.ts's schema). */
export const securitySchemaProperties = {
  NODE_ENV: { type: 'string' },
  AUTH_ISSUER: { type: 'string', minLength: 1, maxLength: 500 },
  AUTH_AUDIENCE: { type: 'string', minLength: 1, maxLength: 500 },
  AUTH_JWKS_URL: { type: 'string', pattern: '^https?://' },
  AUTH_PUBLIC_KEY: { type: 'string', minLength: 1 },
  AUTH_ALGORITHMS: {
    type: 'string',
    pattern: `^(${ASYMMETRIC_ALGORITHMS.join('|')})(,(${ASYMMETRIC_ALGORITHMS.join('|')}))*$`,
  },
  // 0 … 300 s: more than five minutes of skew is a broken clock, not skew.
  AUTH_CLOCK_SKEW_SECONDS: { type: 'string', pattern: '^([0-9]|[1-9][0-9]|[12][0-9][0-9]|300)$' },
  AUTH_ROLES_CLAIM: { type: 'string', pattern: '^[A-Za-z0-9_:/.-]{1,100}$' },
  // Range-checked with the other numbers (src/config/ranges.ts).
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: { type: 'string' },
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: count,
  RATE_LIMIT_CUSTOMER_PER_MINUTE: count,
  RATE_LIMIT_ORGANIZER_PER_MINUTE: count,
  RATE_LIMIT_OPERATOR_PER_MINUTE: count,
  RATE_LIMIT_ORDERS_PER_MINUTE: count,
  CORS_ALLOWED_ORIGINS: {
    type: 'string',
    pattern: '^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(,https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)*)?$',
  },
  TRUST_PROXY_HOPS: { type: 'string', pattern: '^[0-9]$' },
} as const;

type Env = Record<string, string | undefined>;

const AUTH_VARIABLES = [
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'AUTH_JWKS_URL',
  'AUTH_PUBLIC_KEY',
  'AUTH_ALGORITHMS',
  'AUTH_CLOCK_SKEW_SECONDS',
  'AUTH_ROLES_CLAIM',
];

/**
 * The token verification settings, or undefined when no AUTH_* variable is set. Throws
 * ConfigError for a partial or contradictory set, a key that does not parse (or is private), or a
 * development issuer/key/http JWKS with NODE_ENV=production. The schema has already checked each
 * variable's shape.
 */
export function loadAuthConfig(env: Env): AuthConfig | undefined {
  if (!AUTH_VARIABLES.some((name) => env[name] !== undefined && env[name] !== '')) return undefined;
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  if (!env.AUTH_ISSUER) problems.push('AUTH_ISSUER: is required when authentication is configured');
  if (!env.AUTH_AUDIENCE) problems.push('AUTH_AUDIENCE: is required when authentication is configured');
  if (!env.AUTH_JWKS_URL === !env.AUTH_PUBLIC_KEY) problems.push('AUTH_JWKS_URL / AUTH_PUBLIC_KEY: set exactly one');
  if (production && env.AUTH_ISSUER === DEV_ISSUER)
    problems.push(`AUTH_ISSUER: the development issuer ${DEV_ISSUER} is refused with NODE_ENV=production`);
  if (production && env.AUTH_JWKS_URL && !env.AUTH_JWKS_URL.startsWith('https://')) {
    problems.push('AUTH_JWKS_URL: must be https with NODE_ENV=production');
  }
  let keys: AuthConfig['keys'] | undefined;
  if (env.AUTH_JWKS_URL) keys = { kind: 'jwks', url: env.AUTH_JWKS_URL };
  else if (env.AUTH_PUBLIC_KEY) {
    try {
      keys = staticKey(env.AUTH_PUBLIC_KEY);
      if (production && keys.kind === 'static' && keys.kid?.startsWith(DEV_KEY_ID_PREFIX)) {
        problems.push('AUTH_PUBLIC_KEY: a development key is refused with NODE_ENV=production');
      }
    } catch (error) {
      problems.push(`AUTH_PUBLIC_KEY: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0 || !keys) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return {
    issuer: env.AUTH_ISSUER!,
    audience: env.AUTH_AUDIENCE!,
    keys,
    algorithms: (env.AUTH_ALGORITHMS ?? 'RS256,ES256').split(',') as JwsAlgorithm[],
    clockSkewSeconds: env.AUTH_CLOCK_SKEW_SECONDS === undefined ? 30 : Number(env.AUTH_CLOCK_SKEW_SECONDS),
    rolesClaim: env.AUTH_ROLES_CLAIM ?? 'roles',
    production,
    maxTokenLifetimeSeconds:
      env.AUTH_MAX_TOKEN_LIFETIME_SECONDS === undefined
        ? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS
        : Number(env.AUTH_MAX_TOKEN_LIFETIME_SECONDS),
  };
}

/**
 * One public key: an SPKI PEM (`-----BEGIN PUBLIC KEY-----`, `\n` escapes allowed for env files)
 * or a public JWK as JSON (its `kid` kept). Throws for private keys and anything unparsable.
 */
function staticKey(text: string): { kind: 'static'; key: KeyObject; kid: string | undefined } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let jwk: JsonWebKey & { kid?: unknown };
    try {
      jwk = JSON.parse(trimmed) as JsonWebKey & { kid?: unknown };
    } catch {
      throw new Error('is neither a PEM public key nor a JWK');
    }
    if (typeof jwk !== 'object' || jwk === null || 'd' in jwk)
      throw new Error('must be a public JWK (no private part)');
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    return { kind: 'static', key, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined };
  }
  const pem = trimmed.replace(/\\n/g, '\n');
  if (/PRIVATE KEY/.test(pem)) throw new Error('must be a public key, not a private one');
  if (!pem.startsWith('-----BEGIN PUBLIC KEY-----'))
    throw new Error('must be an SPKI PEM (-----BEGIN PUBLIC KEY-----) or a JWK');
  try {
    return { kind: 'static', key: createPublicKey(pem), kid: undefined };
  } catch {
    throw new Error('is not a readable public key');
  }
}

/** Rate limits, CORS origins and proxy trust; the schema has checked each variable's shape. */
export function loadSecurityConfig(env: Env): SecurityConfig {
  const int = (name: string, fallback: number): number => (env[name] === undefined ? fallback : Number(env[name]));
  return {
    rateLimits: {
      anonymousPerMinute: int('RATE_LIMIT_ANONYMOUS_PER_MINUTE', 60),
      customerPerMinute: int('RATE_LIMIT_CUSTOMER_PER_MINUTE', 120),
      organizerPerMinute: int('RATE_LIMIT_ORGANIZER_PER_MINUTE', 300),
      operatorPerMinute: int('RATE_LIMIT_OPERATOR_PER_MINUTE', 600),
      ordersPerMinute: int('RATE_LIMIT_ORDERS_PER_MINUTE', 10),
    },
    corsOrigins: env.CORS_ALLOWED_ORIGINS ? env.CORS_ALLOWED_ORIGINS.split(',') : [],
    trustProxyHops: int('TRUST_PROXY_HOPS', 0),
  };
}
