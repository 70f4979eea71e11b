/**
 * Tokens for the project's own tools that drive a service they start (chaos, bench, fuzz): one
 * key per tool process, its public half given to the service as AUTH_PUBLIC_KEY, and generous rate
 * limits (a load test must measure the service, not its abuse limits). Real tokens, verified by
 * the service like any other.
 */
import type { Role } from '../../src/http/auth/principal';
import { DEV_AUDIENCE, generateSigningKey, mintToken, publicPemOf, type SigningKey } from './dev-keys';

const TOOL_ISSUER = 'urn:eventticket:tools';

export interface ToolAuth {
  /** AUTH_* and RATE_LIMIT_* variables for the service under test. */
  env: Record<string, string>;
  /** `{ Authorization: 'Bearer …' }` for this role and sub (cached: one token per pair). */
  headers(role: Role, sub: string): Promise<Record<string, string>>;
}

let shared: ToolAuth | undefined;

/** This process's tool identity (created on first use). */
export function toolAuth(): ToolAuth {
  shared ??= createToolAuth(generateSigningKey('tool-'));
  return shared;
}

function createToolAuth(key: SigningKey): ToolAuth {
  const tokens = new Map<string, Promise<string>>();
  const unlimited = '1000000';
  return {
    env: {
      AUTH_ISSUER: TOOL_ISSUER,
      AUTH_AUDIENCE: DEV_AUDIENCE,
      AUTH_PUBLIC_KEY: publicPemOf(key),
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: unlimited,
      RATE_LIMIT_CUSTOMER_PER_MINUTE: unlimited,
      RATE_LIMIT_ORGANIZER_PER_MINUTE: unlimited,
      RATE_LIMIT_OPERATOR_PER_MINUTE: unlimited,
      RATE_LIMIT_ORDERS_PER_MINUTE: unlimited,
    },
    headers: async (role, sub) => {
      const id = `${role}\n${sub}`;
      let token = tokens.get(id);
      if (!token) {
        token = mintToken(key, {
          sub,
          roles: [role],
          issuer: TOOL_ISSUER,
          audience: DEV_AUDIENCE,
          ttlSeconds: 24 * 3600,
        });
        tokens.set(id, token);
      }
      return { Authorization: `Bearer ${await token}` };
    },
  };
}
