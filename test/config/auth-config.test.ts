/**
 * The trust boundary's configuration is checked at start-up like the rest: partial or
 * contradictory AUTH_* sets, unreadable or private keys, `none`/HMAC algorithms, a skew beyond
 * 300 s, and any development key or issuer with NODE_ENV=production stop the process. Pure.
 */
import { DEV_ISSUER } from '../../src/config/auth-config';
import { ConfigError, loadConfig } from '../../src/config/config';
import { refuseDevelopmentKeys } from '../../src/config/dev-key-check';
import { generateSigningKey, jwksOf, publicPemOf } from '../../scripts/auth/dev-keys';

const key = generateSigningKey('k-');
const pem = publicPemOf(key);
const base = { AUTH_ISSUER: 'https://idp.example/', AUTH_AUDIENCE: 'api', AUTH_PUBLIC_KEY: pem };

describe('authentication configuration', () => {
  it('is absent without AUTH_* (the API then refuses to start) and complete with them, defaults filled in', () => {
    expect(loadConfig({}).auth).toBeUndefined();
    expect(loadConfig(base).auth).toMatchObject({
      issuer: 'https://idp.example/',
      audience: 'api',
      keys: { kind: 'static' },
      algorithms: ['RS256', 'ES256'],
      clockSkewSeconds: 30,
      rolesClaim: 'roles',
      production: false,
      maxTokenLifetimeSeconds: 86_400,
    });
    expect(loadConfig({ ...base, AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600' }).auth?.maxTokenLifetimeSeconds).toBe(3600);
    expect(loadConfig({ ...base, AUTH_PUBLIC_KEY: JSON.stringify(jwksOf(key).keys[0]) }).auth?.keys).toMatchObject({
      kind: 'static',
      kid: key.kid,
    });
    expect(loadConfig({ ...base, AUTH_PUBLIC_KEY: pem.replace(/\n/g, '\\n') }).auth?.keys.kind).toBe('static');
  });

  it.each([
    ['no audience', { ...base, AUTH_AUDIENCE: undefined }, /AUTH_AUDIENCE/],
    ['no key source', { ...base, AUTH_PUBLIC_KEY: undefined }, /set exactly one/],
    ['both key sources', { ...base, AUTH_JWKS_URL: 'https://idp.example/jwks' }, /set exactly one/],
    [
      'a private key',
      { ...base, AUTH_PUBLIC_KEY: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
      /not a private/,
    ],
    [
      'a private JWK',
      { ...base, AUTH_PUBLIC_KEY: JSON.stringify(key.privateKey.export({ format: 'jwk' })) },
      /public JWK/,
    ],
    [
      'garbage for a key',
      { ...base, AUTH_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' },
      /not a readable/,
    ],
    ['alg none', { ...base, AUTH_ALGORITHMS: 'none' }, /AUTH_ALGORITHMS/],
    ['HMAC', { ...base, AUTH_ALGORITHMS: 'RS256,HS256' }, /AUTH_ALGORITHMS/],
    ['a skew of 301 s', { ...base, AUTH_CLOCK_SKEW_SECONDS: '301' }, /AUTH_CLOCK_SKEW_SECONDS/],
    [
      'a JWKS URL that is not http(s)',
      { ...base, AUTH_PUBLIC_KEY: undefined, AUTH_JWKS_URL: 'file:///etc/jwks' },
      /AUTH_JWKS_URL/,
    ],
    ['a rate limit of 0', { RATE_LIMIT_ORDERS_PER_MINUTE: '0' }, /RATE_LIMIT_ORDERS_PER_MINUTE/],
    ['a CORS origin with a path', { CORS_ALLOWED_ORIGINS: 'https://shop.example/app' }, /CORS_ALLOWED_ORIGINS/],
  ])('refuses %s', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses development keys and issuers with NODE_ENV=production', async () => {
    const prod = { ...base, NODE_ENV: 'production' };
    expect(loadConfig(prod).auth?.production).toBe(true);
    expect(() => loadConfig({ ...prod, AUTH_ISSUER: DEV_ISSUER })).toThrow(/development issuer/);
    const devKey = generateSigningKey();
    expect(() => loadConfig({ ...prod, AUTH_PUBLIC_KEY: JSON.stringify(jwksOf(devKey).keys[0]) })).toThrow(
      /development key/,
    );
    expect(() =>
      loadConfig({ ...prod, AUTH_PUBLIC_KEY: undefined, AUTH_JWKS_URL: 'http://127.0.0.1:9999/jwks' }),
    ).toThrow(/https/);

    const jwks = loadConfig({ ...prod, AUTH_PUBLIC_KEY: undefined, AUTH_JWKS_URL: 'https://idp.example/jwks' }).auth!;
    await expect(refuseDevelopmentKeys(jwks, async () => jwksOf(devKey))).rejects.toThrow(/development key/);
    await expect(refuseDevelopmentKeys(jwks, async () => ({ keys: [] }))).rejects.toThrow(/no keys/);
    await expect(refuseDevelopmentKeys(jwks, async () => Promise.reject(new Error('ECONNREFUSED')))).rejects.toThrow(
      /cannot read/,
    );
    await expect(refuseDevelopmentKeys(jwks, async () => jwksOf(key))).resolves.toBeUndefined();
  });

  it('reads rate limits and the CORS allow-list, empty by default', () => {
    expect(loadConfig({}).security).toEqual({
      rateLimits: {
        anonymousPerMinute: 60,
        customerPerMinute: 120,
        organizerPerMinute: 300,
        operatorPerMinute: 600,
        ordersPerMinute: 10,
      },
      corsOrigins: [],
      trustProxyHops: 0,
    });
    expect(
      loadConfig({ CORS_ALLOWED_ORIGINS: 'https://shop.example,http://localhost:3000' }).security.corsOrigins,
    ).toEqual(['https://shop.example', 'http://localhost:3000']);
  });
});
