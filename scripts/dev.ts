/**
 * `npm run dev`: one command for a working local service.
 *
 * 1. AWS endpoint: AWS_ENDPOINT_URL if it answers (reused, and said so); else whatever answers on
 *    127.0.0.1:4566; else the moto emulator (scripts/emulator.py) started on AWS_ENDPOINT_URL's
 *    local port (4566 when unset); else LocalStack through testcontainers if Docker answers; else
 *    one message saying what to install or set. DynamoDB: AWS_ENDPOINT_URL_DYNAMODB if set; else
 *    AWS's DynamoDB Local on a free 127.0.0.1 port when Java >= 17 answers; else the same endpoint
 *    (LOCAL_DYNAMODB). One gateway: the emulator forwards DynamoDB requests to that DynamoDB, so
 *    AWS_ENDPOINT_URL answers both services (the AWS CLI's commands work on it), while the service
 *    talks to DynamoDB Local directly.
 * 2. Redis at REDIS_URL (default 127.0.0.1:6379), started with redis-server if silent and local.
 * 3. Tables and queues from init-scripts/resources.json (idempotent).
 * 4. A development token issuer (scripts/auth/dev-issuer.ts): a fresh key pair, its JWKS on
 *    127.0.0.1, one token per role printed; `npm run token` mints more. Skipped when AUTH_ISSUER is
 *    set (a real provider). Refused with NODE_ENV=production.
 * 5. The service with all its workers: `tsx src/main.ts`, with SIGINT/SIGTERM/SIGHUP forwarded. What
 *    this script started is stopped when the service exits.
 * 6. `.dev/env` (DEV_DIR / DEV_ENV_FILE move it; scripts/lib/dev-env.ts): endpoints, region, dummy
 *    credentials, prefix, Redis, the API's URL and a token per role, as `export K='V'` lines for
 *    `source` and for check, replay, migrate, token and bench. Removed when dev ends.
 *
 * Whatever the path out, nothing this script started outlives it (docs/reliability.md, "Shutdown"):
 *  - its parent chain gone (npm stopped: npm does not forward SIGTERM to its script; npm killed):
 *    as SIGTERM;
 *  - SIGTERM, SIGINT, SIGHUP: forwarded to the service, which exits within SHUTDOWN_TIMEOUT_MS;
 *    past that plus a margin it is killed; then the engines are stopped;
 *  - an uncaught error or rejection here: the same cleanup, exit 1;
 *  - this process killed outright (SIGKILL, a launcher killing its process group): the reaper
 *    (scripts/dev-reaper.mjs), a detached process that holds the list of what was started, sees
 *    its stdin close and stops them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createAwsClients, destroyAwsClients } from '../src/aws/clients';
import { loadConfig } from '../src/config/config';
import { initResources } from '../src/infra/init';
import { startDevIssuer, type DevIssuer } from './auth/dev-issuer';
import { devEnvFile, removeDevEnv, writeDevEnv } from './lib/dev-env';
import {
  ensureLocalAws,
  ensureLocalRedis,
  processAlive,
  startedGroups,
  type LocalAws,
  type LocalRedis,
} from './local-aws';

const ROOT = path.resolve(__dirname, '..');
const log = (line: string) => console.log(`[dev] ${line}`);

let aws: LocalAws | undefined;
let redis: LocalRedis | undefined;
let child: ChildProcess | undefined;
let issuer: DevIssuer | undefined;

/** The reaper: stops what is listed when this process is gone, however it went. */
const reaper = spawn(process.execPath, [path.join(ROOT, 'scripts', 'dev-reaper.mjs')], {
  detached: true,
  stdio: ['pipe', 'ignore', 'ignore'],
});
reaper.unref();
reaper.stdin?.on('error', () => undefined);
const tellReaper = (line: string) => void reaper.stdin?.write(`${line}\n`);
startedGroups.listeners.push((change, pid) => tellReaper(`${change === 'add' ? 'group' : 'forget'} ${pid}`));
for (const pid of startedGroups.pids) tellReaper(`group ${pid}`);

/** How long the service may take to stop once told (its SHUTDOWN_TIMEOUT_MS plus a margin) before it is killed. */
const serviceStopMs = () => Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 10_000) + 5000;

const forwarded = new Set<NodeJS.Signals>();
let interrupted = false;
function onSignal(signal: NodeJS.Signals): void {
  if (!child) {
    // Still starting: stop after the current step (so what it starts is stopped too); a second
    // signal stops what is known now and leaves at once.
    if (interrupted) void cleanup().then(() => process.exit(130));
    interrupted = true;
    return;
  }
  // A terminal's Ctrl-C already reaches the child (same process group); forward once anyway for
  // `kill <dev pid>`, and never twice so a graceful shutdown is not cut short.
  if (forwarded.has(signal) || child.exitCode !== null || child.signalCode !== null) return;
  forwarded.add(signal);
  signalService(child, signal);
  if (forwarded.size === 1) {
    const service = child;
    setTimeout(() => {
      if (service.exitCode === null && service.signalCode === null) {
        log(`the service did not stop within ${serviceStopMs()} ms: killing it`);
        signalService(service, 'SIGKILL');
      }
    }, serviceStopMs()).unref();
  }
}

/** The service runs in its own process group (tsx and its node): signal all of it. */
function signalService(service: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(service.pid ?? 0), signal);
  } catch {
    service.kill(signal);
  }
}
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

/**
 * This process's ancestors (tsx, the shell, npm, whatever ran npm), read from /proc (Linux; none
 * elsewhere). npm does not pass a SIGTERM on to its script, and a killed parent tells nobody.
 */
function ancestors(): number[] {
  const chain: number[] = [];
  for (let pid = process.ppid; pid > 1 && chain.length < 16;) {
    chain.push(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return chain;
}
const watched = ancestors();
// An ancestor gone (npm stopped or killed, the terminal closed): stop as for SIGTERM.
const parentWatch = setInterval(() => {
  if (watched.some((pid) => !processAlive(pid))) {
    clearInterval(parentWatch);
    log('the process that started npm run dev is gone: stopping');
    onSignal('SIGTERM');
    if (!child) onSignal('SIGTERM');
  }
}, 1000);
parentWatch.unref();
// A closed terminal: stop as for Ctrl-C (the default would leave everything started running).
process.on('SIGHUP', () => onSignal('SIGHUP'));
const crashed = (error: unknown) => {
  console.error(`[dev] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (child && child.exitCode === null) signalService(child, 'SIGKILL');
  void cleanup().finally(() => process.exit(1));
};
process.on('uncaughtException', crashed);
process.on('unhandledRejection', crashed);

async function cleanup(): Promise<void> {
  const [a, r, i] = [aws, redis, issuer];
  aws = redis = issuer = undefined;
  removeDevEnv();
  await Promise.allSettled([a?.stop(), r?.stop(), i?.close()]);
}

function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted during start-up');
}

async function main(): Promise<number> {
  if (process.env.NODE_ENV === 'production')
    throw new Error('npm run dev signs tokens with a development key; it does not run with NODE_ENV=production');
  aws = await ensureLocalAws({ prefer: 'emulator', log, gateway: true, dynamodb: { port: 'free' } });
  checkInterrupted();
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  if (aws.dynamodbEndpoint !== aws.endpoint) process.env.AWS_ENDPOINT_URL_DYNAMODB = aws.dynamodbEndpoint;
  // Prometheus metrics on their own port (not behind the API's auth); METRICS_PORT= turns them off.
  process.env.METRICS_PORT = process.env.METRICS_PORT ?? '9464';
  process.env.AWS_REGION = process.env.AWS_REGION || 'us-east-1';

  redis = await ensureLocalRedis();
  checkInterrupted();
  log(redis.started ? `started redis-server for ${redis.url}` : `using Redis at ${redis.url}`);

  if (!process.env.AUTH_ISSUER) {
    issuer = await startDevIssuer();
    Object.assign(process.env, issuer.env);
    log(`development tokens: issuer ${issuer.env.AUTH_ISSUER}, keys at ${issuer.env.AUTH_JWKS_URL}`);
  } else {
    log(`tokens from ${process.env.AUTH_ISSUER} (AUTH_* set; no development issuer)`);
  }
  checkInterrupted();

  const config = loadConfig();
  const clients = createAwsClients(config);
  try {
    await initResources(clients, config.resourcePrefix);
  } finally {
    destroyAwsClients(clients);
  }
  log(
    `tables and queues ready (prefix '${config.resourcePrefix}'): DynamoDB at ${aws.dynamodbEndpoint}, SQS at ${aws.endpoint}`,
  );
  checkInterrupted();

  const shown = shortPath(devEnvFile());
  writeDevEnv(devEnvironment(aws, config, issuer), [
    `written by npm run dev (pid ${process.pid}); removed when it ends. In another shell: source ${shown}`,
    `AWS_ENDPOINT_URL is the one gateway (DynamoDB and SQS): aws --endpoint-url=$AWS_ENDPOINT_URL dynamodb list-tables`,
  ]);
  log(`environment for other shells (check, replay, migrate, token, bench read it): source ${shown}`);

  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  // Its own process group, so that a stop reaches tsx and the node it runs (signals are forwarded).
  const service = spawn(tsx, [path.join('src', 'main.ts')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: process.env,
    detached: true,
  });
  child = service;
  if (service.pid !== undefined) tellReaper(`group ${service.pid}`);
  log(`service starting (pid ${service.pid}; launcher pid ${process.pid}): API on http://localhost:${config.port}`);
  log(`try: curl -s http://localhost:${config.port}/actuator/health   (Ctrl-C stops the service and what dev started)`);
  for (const { role, sub, token } of issuer?.tokens ?? []) {
    log(`${role} (sub ${sub}), valid 12 h:\n  export TOKEN_${role.toUpperCase().replace('-', '_')}=${token}`);
  }
  if (issuer)
    log(
      `more: npm run token -- --role operator --sub ann;  then curl -H "Authorization: Bearer $TOKEN_OPERATOR" http://localhost:${config.port}/ops/overview`,
    );

  return new Promise<number>((resolve) => {
    service.once('error', (error) => {
      console.error(`[dev] could not start the service: ${error.message}`);
      resolve(1);
    });
    service.once('exit', (code, signal) => {
      log(`service exited (${signal ?? `code ${code}`})`);
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
    });
  });
}

/** A path relative to the working directory when it lies below it, else absolute. */
function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** What `.dev/env` holds (scripts/lib/dev-env.ts): everything another shell needs to reach this dev. */
function devEnvironment(
  local: LocalAws,
  config: ReturnType<typeof loadConfig>,
  devIssuer: DevIssuer | undefined,
): Record<string, string> {
  const env = process.env;
  const vars: Record<string, string> = {
    DEV_PID: String(process.pid),
    DEV_DIR: path.dirname(devEnvFile()),
    AWS_ENDPOINT_URL: local.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: local.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: env.AWS_ENDPOINT_URL_SQS || local.endpoint,
    AWS_REGION: config.awsRegion,
    AWS_DEFAULT_REGION: config.awsRegion,
    // Local engines take any credentials; real ones in this shell are left as they are.
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID || 'test',
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY || 'test',
    RESOURCE_PREFIX: config.resourcePrefix,
    REDIS_URL: redis?.url ?? config.redisUrl,
    API_URL: `http://localhost:${config.port}`,
  };
  if (env.METRICS_PORT) vars.METRICS_URL = `http://localhost:${env.METRICS_PORT}/metrics`;
  // No AUTH_*: a tool that starts its own service (bench) would hand them on to it.
  for (const { role, token } of devIssuer?.tokens ?? []) vars[`TOKEN_${role.toUpperCase().replace('-', '_')}`] = token;
  return vars;
}

main()
  .then(async (code) => {
    await cleanup();
    if (child?.pid !== undefined) tellReaper(`forget ${child.pid}`);
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(`[dev] ${error instanceof Error ? error.message : String(error)}`);
    await cleanup();
    process.exit(1);
  });
