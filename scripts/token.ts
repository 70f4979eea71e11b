/**
 * `npm run token -- --role operator --sub ann [--role operator-repair] [--ttl 3600]`: prints a
 * token signed with the key the running `npm run dev` generated (<DEV_DIR or .dev>/auth-key.json).
 */
import { ROLES, type Role } from '../src/http/auth/principal';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../src/config/auth-config';
import { SETTING_RANGES } from '../src/config/ranges';
import { loadDevKey, mintToken } from './auth/dev-keys';
import { loadDevEnv } from './lib/dev-env';

// DEV_DIR (where the running dev keeps its key) from its env file when the environment names none.
loadDevEnv();

function usage(message: string): never {
  console.error(
    `${message}\nusage: npm run token -- --role <${ROLES.join('|')}> [--role …] --sub <subject> [--ttl <seconds>]`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const roles: Role[] = [];
  let sub: string | undefined;
  let ttl = 12 * 3600;
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === '--role') {
      for (const role of value.split(',')) {
        if (!(ROLES as readonly string[]).includes(role)) usage(`unknown role ${role}`);
        roles.push(role as Role);
      }
    } else if (flag === '--sub') sub = value;
    else if (flag === '--ttl') {
      ttl = Number(value);
      if (!Number.isInteger(ttl) || ttl <= 0 || ttl > SETTING_RANGES.AUTH_MAX_TOKEN_LIFETIME_SECONDS.max)
        usage(`--ttl must be 1 to ${SETTING_RANGES.AUTH_MAX_TOKEN_LIFETIME_SECONDS.max} seconds`);
      if (ttl > DEFAULT_MAX_TOKEN_LIFETIME_SECONDS)
        console.error(
          `note: the service refuses tokens living longer than AUTH_MAX_TOKEN_LIFETIME_SECONDS (default ${DEFAULT_MAX_TOKEN_LIFETIME_SECONDS} s)`,
        );
    } else usage(`unknown option ${flag}`);
  }
  if (roles.length === 0) usage('--role is required');
  if (!sub) usage('--sub is required');
  console.log(await mintToken(loadDevKey(), { sub, roles, ttlSeconds: ttl }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
