/**
 * The developer's shell: what a running `npm run dev` tells other commands.
 *
 * `npm run dev` writes its endpoints, region, dummy credentials, RESOURCE_PREFIX, REDIS_URL, the
 * API's URL and a token per role to one git-ignored file, `.dev/env` (DEV_DIR moves the folder,
 * DEV_ENV_FILE the file itself), as `export K='V'` lines so a shell can `source` it. The project's
 * other commands (check, replay, migrate, token, bench) call `loadDevEnv()` first.
 *
 * The rules (environment wins):
 * - If the environment names a target itself (any of TARGET_VARIABLES), the file is not read at
 *   all: a half-local, half-remote mix is never made.
 * - Otherwise each variable of the file is applied where the environment has none.
 * - A file whose `npm run dev` (DEV_PID) is gone is ignored, with a note on stderr: its endpoints
 *   answer no more. `npm run dev` also removes its file when it ends.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** Variables that name where the commands act; one of them in the environment means "not the dev file". */
export const TARGET_VARIABLES = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SQS',
  'RESOURCE_PREFIX',
] as const;

/** The folder of `npm run dev`'s state (its env file, its signing key): DEV_DIR, else `<repo>/.dev`. */
export function devDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DEV_DIR?.trim() || path.join(ROOT, '.dev'));
}

/** The env file: DEV_ENV_FILE, else `<devDir>/env`. */
export function devEnvFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DEV_ENV_FILE?.trim() || path.join(devDir(env), 'env'));
}

/** `'…'` for a POSIX shell: single quotes, an embedded one written as '\''. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The file's text: a comment header, then one `export K='V'` line per variable, in the given order. */
export function formatDevEnv(vars: Record<string, string>, header: string[] = []): string {
  const names = Object.keys(vars);
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a variable name: ${name}`);
  }
  return [...header.map((h) => `# ${h}`), ...names.map((n) => `export ${n}=${shellQuote(vars[n])}`), ''].join('\n');
}

/**
 * Reads what formatDevEnv wrote: `export K='V'` (or `K=V`) lines; comments and blank lines skipped.
 * Throws on a line it cannot read (the file is ours: a hand edit that breaks it should be seen).
 */
export function parseDevEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1}: expected export NAME='value'`);
    vars[m[1]] = unquote(m[2], i + 1);
  }
  return vars;
}

function unquote(value: string, line: number): string {
  if (!value.startsWith("'")) {
    if (/[\s'"$`\\]/.test(value)) throw new Error(`line ${line}: quote the value`);
    return value;
  }
  // A sequence of '…' parts joined by \' (the shellQuote form).
  let out = '';
  let rest = value;
  while (rest.length > 0) {
    if (rest.startsWith("\\'")) {
      out += "'";
      rest = rest.slice(2);
      continue;
    }
    const m = /^'([^']*)'/.exec(rest);
    if (!m) throw new Error(`line ${line}: unbalanced quotes`);
    out += m[1];
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** Writes the file atomically (mode 0600: it holds bearer tokens). Returns its path. */
export function writeDevEnv(vars: Record<string, string>, header: string[] = [], file = devEnvFile()): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, formatDevEnv(vars, header), { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

/** Removes the file if it is still the one this process wrote (DEV_PID is ours). */
export function removeDevEnv(file = devEnvFile(), pid = process.pid): void {
  try {
    if (parseDevEnv(readFileSync(file, 'utf8')).DEV_PID === String(pid)) rmSync(file, { force: true });
  } catch {
    /* gone or unreadable: nothing of ours to remove */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type DevEnvResult =
  | { applied: true; file: string; names: string[] }
  | { applied: false; file: string; reason: 'environment' | 'missing' | 'stale' };

/**
 * Applies the dev env file to `env` (default process.env) under the rules in the file header.
 * @param options.quiet no note on stderr for a stale file
 */
export function loadDevEnv(env: NodeJS.ProcessEnv = process.env, options: { quiet?: boolean } = {}): DevEnvResult {
  const file = devEnvFile(env);
  if (TARGET_VARIABLES.some((name) => env[name] !== undefined && env[name] !== ''))
    return { applied: false, file, reason: 'environment' };
  if (!existsSync(file)) return { applied: false, file, reason: 'missing' };
  const vars = parseDevEnv(readFileSync(file, 'utf8'));
  const pid = Number(vars.DEV_PID);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
    if (!options.quiet)
      process.stderr.write(`note: ignoring ${file}: the npm run dev that wrote it (pid ${vars.DEV_PID}) has ended\n`);
    return { applied: false, file, reason: 'stale' };
  }
  const names: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (env[name] === undefined) {
      env[name] = value;
      names.push(name);
    }
  }
  return { applied: true, file, names };
}
