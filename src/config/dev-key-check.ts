/**
 * With NODE_ENV=production the API refuses to start on a development key. loadConfig already
 * refuses the development issuer, a static development key and an http JWKS URL; this fetches the
 * JWKS once at start-up (which also proves the provider answers) and refuses any development key
 * id in it (scripts/auth/dev-keys.ts names its keys `eventticket-dev-…`).
 */
import { DEV_KEY_ID_PREFIX, type AuthConfig } from './auth-config';
import { ConfigError } from './config-error';

export async function refuseDevelopmentKeys(
  auth: AuthConfig,
  fetchJson: (url: string) => Promise<unknown> = fetchJwks,
): Promise<void> {
  if (!auth.production || auth.keys.kind !== 'jwks') return;
  let jwks: unknown;
  try {
    jwks = await fetchJson(auth.keys.url);
  } catch (error) {
    throw new ConfigError(
      `AUTH_JWKS_URL: cannot read ${auth.keys.url} at start-up: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const keys = (jwks as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(`AUTH_JWKS_URL: ${auth.keys.url} holds no keys`);
  if (
    keys.some(
      (k) =>
        typeof (k as { kid?: unknown }).kid === 'string' && (k as { kid: string }).kid.startsWith(DEV_KEY_ID_PREFIX),
    )
  ) {
    throw new ConfigError('AUTH_JWKS_URL: serves a development key; refused with NODE_ENV=production');
  }
}

async function fetchJwks(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}
