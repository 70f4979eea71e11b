/**
 * The development token issuer behind `npm run dev`: a fresh key pair per start, its JWKS served
 * on 127.0.0.1 (the service verifies through AUTH_JWKS_URL exactly as with a real provider), and
 * one ready token per role. Production refuses all of it (DEV_ISSUER, the `eventticket-dev-` key id,
 * the http JWKS URL).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROLES, type Role } from '../../src/http/auth/principal';
import { DEV_ISSUER } from '../../src/config/auth-config';
import { DEV_AUDIENCE, generateSigningKey, jwksOf, mintToken, saveDevKey, type SigningKey } from './dev-keys';

export const JWKS_PATH = '/.well-known/jwks.json';

export interface DevIssuer {
  key: SigningKey;
  /** AUTH_* variables for the service. */
  env: Record<string, string>;
  /** One token per role (12 h), with the sub it was minted for. */
  tokens: Array<{ role: Role; sub: string; token: string }>;
  close(): Promise<void>;
}

/** The sub each printed token is minted for. */
const DEV_SUBJECTS: Record<Role, string> = {
  customer: 'customer-1',
  organizer: 'organizer-1',
  operator: 'operator-1',
  'operator-repair': 'repair-1',
};

export async function startDevIssuer(): Promise<DevIssuer> {
  const key = generateSigningKey();
  saveDevKey(key);
  const body = JSON.stringify(jwksOf(key));
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === JWKS_PATH) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(body);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const port = (server.address() as AddressInfo).port;
  const tokens = await Promise.all(
    ROLES.map(async (role) => ({
      role,
      sub: DEV_SUBJECTS[role],
      token: await mintToken(key, { sub: DEV_SUBJECTS[role], roles: [role] }),
    })),
  );
  return {
    key,
    env: {
      AUTH_ISSUER: DEV_ISSUER,
      AUTH_AUDIENCE: DEV_AUDIENCE,
      AUTH_JWKS_URL: `http://127.0.0.1:${port}${JWKS_PATH}`,
    },
    tokens,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
