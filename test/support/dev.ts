/**
 * A live `npm run dev` for the tests that check what a developer sees (the design's AWS CLI
 * commands, the README, the dev env file), spawned on ports of its own so it never meets the
 * shared engines on 4566/6379: its own emulator (gateway) on a free port, its own DynamoDB Local,
 * its own redis-server, API and metrics ports, and its state (env file, signing key) in a temp
 * DEV_DIR. The environment it gets is the test's minus every variable that would point it
 * elsewhere (AWS endpoints, prefix, AUTH_*, Redis).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/local-aws';
import { parseDevEnv } from '../../scripts/lib/dev-env';

const ROOT = path.resolve(__dirname, '..', '..');

export interface LiveDev {
  /** The gateway (AWS_ENDPOINT_URL) the dev's emulator answers on. */
  gateway: string;
  apiUrl: string;
  devDir: string;
  envFile: string;
  /** The env file's variables, as written by dev. */
  vars: Record<string, string>;
  /** Everything dev printed so far (stdout + stderr). */
  output(): string;
  /**
   * An environment for a child command as in a fresh shell: PATH and HOME, nothing that names a
   * target; `extra` added.
   */
  shellEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const STRIPPED = /^(AWS_|RESOURCE_PREFIX$|AUTH_|REDIS_URL$|DEV_|PORT$|METRICS_PORT$|TOKEN_|LOCAL_DYNAMODB$)/;

/** Starts `tsx scripts/dev.ts` and waits until its env file exists and its API answers health. */
export async function startLiveDev(extraEnv: Record<string, string> = {}, readyTimeoutMs = 90000): Promise<LiveDev> {
  const [gatewayPort, apiPort, metricsPort, redisPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const devDir = mkdtempSync(path.join(tmpdir(), 'eventticket-dev-'));
  const gateway = `http://127.0.0.1:${gatewayPort}`;
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!STRIPPED.test(k)) base[k] = v;
  const env: NodeJS.ProcessEnv = {
    ...base,
    AWS_ENDPOINT_URL: gateway,
    PORT: String(apiPort),
    METRICS_PORT: String(metricsPort),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    DEV_DIR: devDir,
    RECEIVE_WAIT_SECONDS: '2', // a quicker shutdown at the end
    ...extraEnv,
  };
  let out = '';
  const child: ChildProcess = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/dev.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const envFile = path.join(devDir, 'env');
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 600 && !exited; i++) await new Promise((r) => setTimeout(r, 100));
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(devDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline && !exited) {
    if (existsSync(envFile)) {
      try {
        if ((await fetch(`${apiUrl}/actuator/health`, { signal: AbortSignal.timeout(2000) })).status === 200) break;
      } catch {
        /* not yet */
      }
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  if (exited || !existsSync(envFile)) {
    await stop();
    throw new Error(`npm run dev did not come up:\n${out.slice(-4000)}`);
  }
  const vars = parseDevEnv(readFileSync(envFile, 'utf8'));
  return {
    gateway,
    apiUrl,
    devDir,
    envFile,
    vars,
    output: () => out,
    shellEnv: (extra = {}) => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...extra,
    }),
    stop,
  };
}
