/**
 * The dev env file's rules (scripts/lib/dev-env.ts): a shell reads back exactly what was written,
 * the environment wins, a file whose dev has ended is ignored, and dev removes only its own file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  devEnvFile,
  formatDevEnv,
  loadDevEnv,
  parseDevEnv,
  removeDevEnv,
  writeDevEnv,
} from '../../scripts/lib/dev-env';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dev-env-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const tricky = {
  PLAIN: 'http://127.0.0.1:14566',
  EMPTY: '',
  QUOTES: `it's "quoted" $HOME \`x\` \\n`,
  SPACES: '  a b  ',
};

it('a POSIX shell sources back exactly what was written, and parseDevEnv reads the same', () => {
  const file = writeDevEnv({ DEV_PID: String(process.pid), ...tricky }, ['a header'], path.join(dir, 'env'));
  for (const [name, value] of Object.entries(tricky)) {
    const shell = spawnSync('sh', ['-c', `. '${file}' && printf %s "$${name}"`], { encoding: 'utf8', env: {} });
    expect(shell.stdout).toBe(value);
  }
  expect(parseDevEnv(formatDevEnv(tricky))).toEqual(tricky);
  expect(() => formatDevEnv({ 'BAD-NAME': 'x' })).toThrow('not a variable name');
});

it('applies the file where the environment has nothing, and never over what it has', () => {
  const env: NodeJS.ProcessEnv = { DEV_DIR: dir, REDIS_URL: 'redis://mine:6379' };
  writeDevEnv(
    { DEV_PID: String(process.pid), AWS_ENDPOINT_URL: 'http://127.0.0.1:1', REDIS_URL: 'redis://dev' },
    [],
    devEnvFile(env),
  );
  const result = loadDevEnv(env);
  expect(result).toMatchObject({ applied: true, names: ['DEV_PID', 'AWS_ENDPOINT_URL'] });
  expect(env).toMatchObject({ AWS_ENDPOINT_URL: 'http://127.0.0.1:1', REDIS_URL: 'redis://mine:6379' });
});

it('is not read at all when the environment names a target itself', () => {
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_SQS', 'RESOURCE_PREFIX']) {
    const env: NodeJS.ProcessEnv = { DEV_DIR: dir, [name]: 'x' };
    writeDevEnv({ DEV_PID: String(process.pid), REDIS_URL: 'redis://dev' }, [], devEnvFile(env));
    expect(loadDevEnv(env)).toMatchObject({ applied: false, reason: 'environment' });
    expect(env.REDIS_URL).toBeUndefined();
  }
});

it('ignores a file whose npm run dev has ended, and a missing one', async () => {
  const env: NodeJS.ProcessEnv = { DEV_DIR: dir };
  expect(loadDevEnv(env)).toMatchObject({ applied: false, reason: 'missing' });
  const gone = spawn('true');
  await new Promise((r) => gone.once('exit', r));
  writeDevEnv({ DEV_PID: String(gone.pid), AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }, [], devEnvFile(env));
  expect(loadDevEnv(env, { quiet: true })).toMatchObject({ applied: false, reason: 'stale' });
  expect(env.AWS_ENDPOINT_URL).toBeUndefined();
});

it('DEV_ENV_FILE names the file; dev removes its own file only', () => {
  const file = path.join(dir, 'elsewhere.env');
  expect(devEnvFile({ DEV_ENV_FILE: file })).toBe(file);
  writeDevEnv({ DEV_PID: '1' }, [], file);
  removeDevEnv(file, process.pid); // another dev's file (pid 1): kept
  expect(existsSync(file)).toBe(true);
  writeDevEnv({ DEV_PID: String(process.pid) }, [], file);
  removeDevEnv(file, process.pid);
  expect(existsSync(file)).toBe(false);
});
