/**
 * Authentication at the boundary: real tokens (test/support/auth.ts) verified by jose inside the
 * app; every refusal is 401 problem+json with WWW-Authenticate (RFC 6750 §3); the public paths
 * need none; a JWKS provider that cannot be reached is a 503, not a 401.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { generateSigningKey, jwksOf, mintToken, signTokenSync } from '../../scripts/auth/dev-keys';
import { as, bearer, strangerKey, TEST_AUDIENCE, TEST_ISSUER, testKey, tokenFor, unsignedToken } from '../support/auth';
import { createTokenVerifier, InvalidTokenError, VERIFIED_TOKEN_TTL_MS } from '../../src/http/auth/verifier';
import { createApiHarness, PROBLEM_JSON, type ApiHarness } from './harness';

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness({ label: 'apia' });
});

afterAll(async () => {
  await h?.close();
});

describe('bearer tokens', () => {
  it('a request without a token is 401 problem+json with a bare Bearer challenge', async () => {
    const res = await request(h.app).get('/orders').expect(401);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="eventticket"');
    expect(res.body).toMatchObject({ type: 'https://eventticket.dev/problems/unauthorized', status: 401 });
  });

  const refused: Array<[string, () => Promise<string> | string, RegExp]> = [
    ['expired (beyond the clock skew)', () => tokenFor('customer', 'c-1', { ttlSeconds: -120 }), /expired/],
    ['for another audience', () => tokenFor('customer', 'c-1', { audience: 'someone-else' }), /aud/],
    ['from another issuer', () => tokenFor('customer', 'c-1', { issuer: 'https://evil.example/' }), /iss/],
    ['signed by a key we do not trust', () => tokenFor('operator-repair', 'c-1', { key: strangerKey }), /trusted key/],
    ['unsigned (alg none)', () => unsignedToken(['operator-repair'], 'mallory'), /malformed|algorithm/],
    ['garbage', () => 'not.a.jwt', /malformed/],
  ];
  it.each(refused)('a token %s is 401 with error="invalid_token"', async (_name, make, reason) => {
    const res = await request(h.app)
      .get('/orders')
      .set('Authorization', `Bearer ${await make()}`)
      .expect(401);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="eventticket", error="invalid_token", error_description="/,
    );
    expect(res.body.detail).toMatch(reason);
  });

  it('other schemes and malformed headers are 401', async () => {
    await request(h.app).get('/orders').set('Authorization', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l').expect(401);
    await request(h.app)
      .get('/orders')
      .set('Authorization', `Bearer ${'a'.repeat(9000)}.b.c`)
      .expect(401);
  });

  it('a token expired within the configured skew (5 s) still passes', async () => {
    await request(h.app)
      .get('/orders')
      .set(bearer('customer', 'c-skew', { ttlSeconds: -2 }))
      .expect(200);
  });

  describe('token lifetime (AUTH_MAX_TOKEN_LIFETIME_SECONDS, 24 h by default)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const YEAR_2200 = 7_258_118_400;
    const refusedLifetimes: Array<[string, Record<string, unknown>]> = [
      ['valid until the year 2200', { iat: now(), exp: YEAR_2200 }],
      ['one second longer than 24 h', { iat: now() - 10, exp: now() - 10 + 86_401 }],
      ['without iat', { iat: undefined, exp: now() + 600 }],
      ['issued in the future (beyond the clock skew)', { iat: now() + 3600, exp: now() + 3600 + 600 }],
      ['with an iat that is not a number', { iat: 'yesterday', exp: now() + 600 }],
    ];
    it.each(refusedLifetimes)('a token %s is 401; the reason is logged, not answered', async (_name, claims) => {
      const token = signTokenSync(
        testKey,
        { sub: 'c-long', roles: ['customer'], issuer: TEST_ISSUER, audience: TEST_AUDIENCE },
        { claims },
      );
      const res = await request(h.app).get('/orders').set('Authorization', `Bearer ${token}`).expect(401);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect(`${res.body.detail} ${res.headers['www-authenticate']}`).not.toMatch(/lifetime|iat|86400|exceeds|future/i);
    });

    it('a token of exactly 24 h passes', async () => {
      const token = signTokenSync(
        testKey,
        { sub: 'c-day', roles: ['customer'], issuer: TEST_ISSUER, audience: TEST_AUDIENCE },
        { claims: { iat: now(), exp: now() + 86_400 } },
      );
      await request(h.app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
    });

    it('a shorter configured maximum refuses what the default allows', async () => {
      const short = await createApiHarness({ label: 'apit', env: { AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600' } });
      try {
        const token = (ttl: number) =>
          signTokenSync(testKey, {
            sub: 'c-2h',
            roles: ['customer'],
            issuer: TEST_ISSUER,
            audience: TEST_AUDIENCE,
            ttlSeconds: ttl,
          });
        await request(short.app)
          .get('/orders')
          .set('Authorization', `Bearer ${token(7200)}`)
          .expect(401);
        await request(short.app)
          .get('/orders')
          .set('Authorization', `Bearer ${token(3600)}`)
          .expect(200);
      } finally {
        await short.close();
      }
    });
  });

  describe('verified tokens are kept (VERIFIED_TOKEN_TTL_MS), never past their exp', () => {
    // The service's verifier on a clock the test moves (jose's checks and the kept tokens alike).
    const verifierAt = (clock: { ms: number }, options: { keep?: number } = {}) =>
      createTokenVerifier(h.config.auth!, { ...options, now: () => clock.ms });

    it('a token verified once is answered from what was kept until the TTL, then verified again', async () => {
      const clock = { ms: Date.now() };
      const verify = verifierAt(clock);
      const token = await tokenFor('customer', 'c-kept');
      const first = await verify(token);
      clock.ms += VERIFIED_TOKEN_TTL_MS - 1000;
      // The same principal object: not verified again.
      expect(await verify(token)).toBe(first);
      clock.ms += 2000;
      const again = await verify(token);
      expect(again).not.toBe(first);
      expect(again).toEqual(first);
    });

    it('a kept token stops being accepted after its exp (and the clock skew jose allows past it)', async () => {
      const clock = { ms: Date.now() };
      const verify = verifierAt(clock);
      const token = await tokenFor('customer', 'c-short', { ttlSeconds: 20 });
      const first = await verify(token);
      const exp = first.expiresAt! * 1000;
      clock.ms = exp - 1000;
      expect(await verify(token)).toBe(first);
      // Past exp nothing kept answers: within the skew (5 s) jose accepts it afresh, beyond it refuses.
      clock.ms = exp + 1000;
      expect(await verify(token)).not.toBe(first);
      clock.ms = exp + (h.config.auth!.clockSkewSeconds + 1) * 1000;
      await expect(verify(token)).rejects.toThrow(new InvalidTokenError('the token has expired'));
      await expect(verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
    });

    it('a refused token is never kept; keep: 0 keeps none; the bound keeps the most recently used', async () => {
      const clock = { ms: Date.now() };
      const verify = verifierAt(clock);
      const stranger = await tokenFor('operator-repair', 'mallory', { key: strangerKey });
      await expect(verify(stranger)).rejects.toBeInstanceOf(InvalidTokenError);
      await expect(verify(stranger)).rejects.toBeInstanceOf(InvalidTokenError);

      const token = await tokenFor('customer', 'c-none');
      const none = verifierAt(clock, { keep: 0 });
      expect(await none(token)).not.toBe(await none(token));

      const one = verifierAt(clock, { keep: 1 });
      const other = await tokenFor('customer', 'c-other');
      const a = await one(token);
      expect(await one(token)).toBe(a);
      await one(other);
      expect(await one(token)).not.toBe(a);
    });
  });

  it('a valid token without any known role authenticates but may do nothing: 403', async () => {
    const res = await request(h.app).get('/orders').set(bearer([], 'nobody')).expect(403);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="eventticket", error="insufficient_scope"');
    expect(res.body.type).toBe('https://eventticket.dev/problems/forbidden');
  });

  it("the health check and the console's static assets need no token; unknown routes do", async () => {
    await request(h.app).get('/actuator/health').expect(200);
    // No console in this build of the app: the path is public, so the answer is 404, not 401.
    await request(h.app).get('/console/assets/app.js').expect(404);
    await request(h.app).get('/console/assets/../../orders').expect(401);
    await request(h.app).get('/nope').expect(401);
    await request(h.app).get('/nope').set(as.operator()).expect(404);
  });

  it("helmet's headers are on every answer", async () => {
    const res = await request(h.app).get('/actuator/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('no CORS headers without an allow-list', async () => {
    const res = await request(h.app)
      .get('/orders')
      .set(as.customer('c-cors'))
      .set('Origin', 'https://shop.example')
      .expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('a JWKS provider', () => {
  let server: Server;
  let app: ApiHarness;
  const key = generateSigningKey('provider-');
  let up = true;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      if (!up) {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwksOf(key)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    app = await createApiHarness({
      label: 'apij',
      env: { AUTH_PUBLIC_KEY: '', AUTH_JWKS_URL: jwksUrl, AUTH_ROLES_CLAIM: 'cognito:groups' },
    });
  });

  afterAll(async () => {
    await app?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("verifies tokens against the provider's keys, roles from a configured claim (cognito:groups)", async () => {
    const token = await mintToken(key, {
      sub: 'op-1',
      roles: ['operator'],
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      rolesClaim: 'cognito:groups',
    });
    await request(app.app)
      .get('/sagas')
      .query({ status: 'PENDING' })
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    // The same roles under the default claim name grant nothing here.
    const plain = await mintToken(key, {
      sub: 'op-1',
      roles: ['operator'],
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
    });
    await request(app.app)
      .get('/sagas')
      .query({ status: 'PENDING' })
      .set('Authorization', `Bearer ${plain}`)
      .expect(403);
  });

  it('a token whose key the provider does not publish is 401', async () => {
    const foreign = await mintToken(generateSigningKey('other-'), {
      sub: 'x',
      roles: ['operator'],
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
    });
    const res = await request(app.app)
      .get('/sagas')
      .query({ status: 'PENDING' })
      .set('Authorization', `Bearer ${foreign}`)
      .expect(401);
    expect(res.body.detail).toMatch(/trusted key/);
  });

  it('a provider that cannot be read is 503 with Retry-After, never a 401 or a 500', async () => {
    up = false;
    const down = await createApiHarness({
      label: 'apik',
      env: {
        AUTH_PUBLIC_KEY: '',
        AUTH_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
      },
    });
    try {
      const token = await mintToken(key, {
        sub: 'op-1',
        roles: ['operator'],
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
      });
      const res = await request(down.app)
        .get('/sagas')
        .query({ status: 'PENDING' })
        .set('Authorization', `Bearer ${token}`)
        .expect(503);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      up = true;
      await down.close();
    }
  });
});
