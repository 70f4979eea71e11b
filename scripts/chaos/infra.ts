/**
 * The processes a chaos run owns besides the service: its own emulator (scripts/emulator.py on a
 * free port, paused with SIGSTOP for outages) and its own Redis (stopped and started again).
 *
 * The emulator is started with the real python executable, not a pyenv shim, and in its own
 * process group: SIGSTOP then reaches the process that serves, and nothing else of ours.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import {
  dynamoEngineFromEnv,
  freePort,
  killStarted,
  planDynamoDb,
  realDynamoProbes,
  signalGroup,
  startDynamoDbLocal,
  tcpAnswers as tcpAnswersOn,
} from '../local-aws';

export const ROOT = path.resolve(__dirname, '..', '..');
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** A sleep that does not keep the process alive (for timeouts raced against an exit). */
export const unrefSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

export { freePort } from '../local-aws';

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export const tcpAnswers = (port: number, timeoutMs = 500): Promise<boolean> =>
  tcpAnswersOn('127.0.0.1', port, timeoutMs);

/** The interpreter behind `python3` (resolving pyenv shims), so the pid we signal is the server. */
export function realPython(): string {
  const python = process.env.PYTHON || 'python3';
  const out = spawnSync(python, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 30000 });
  const exe = out.stdout?.trim();
  if (out.status !== 0 || !exe)
    throw new Error(`cannot run ${python}: ${out.stderr || out.error?.message || 'no output'}`);
  return exe;
}

export interface OwnEmulator {
  endpoint: string;
  pid: number;
  /** SIGSTOP: every request hangs until resume(). */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  stop(): Promise<void>;
  /** Synchronous last resort (process exit handlers). */
  killNow(): void;
}

export async function startOwnEmulator(logFile: string, readyTimeoutMs = 30000): Promise<OwnEmulator> {
  const port = await freePort();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      realPython(),
      [path.join(ROOT, 'scripts', 'emulator.py'), '--host', '127.0.0.1', '--port', String(port)],
      {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', fd, fd],
      },
    );
  } finally {
    closeSync(fd);
  }
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('the emulator did not start');
  let exited = false;
  child.once('exit', () => (exited = true));
  const endpoint = `http://127.0.0.1:${port}`;
  let paused = false;
  const emulator: OwnEmulator = {
    endpoint,
    pid,
    get paused() {
      return paused;
    },
    pause: () => {
      paused = true;
      signalGroup(pid, 'SIGSTOP');
    },
    resume: () => {
      signalGroup(pid, 'SIGCONT');
      paused = false;
    },
    stop: async () => {
      signalGroup(pid, 'SIGCONT'); // a paused emulator cannot act on SIGTERM
      await killStarted(pid);
    },
    killNow: () => {
      signalGroup(pid, 'SIGCONT');
      signalGroup(pid, 'SIGKILL');
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return emulator;
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  emulator.killNow();
  throw new Error(`the emulator on port ${port} ${exited ? 'exited' : 'was not ready'}; see ${logFile}`);
}

/** The run's engines: its emulator, and AWS's DynamoDB Local beside it when Java >= 17 answers. */
export interface OwnEngines extends OwnEmulator {
  /** DynamoDB's endpoint: DynamoDB Local's, or the emulator's own (LOCAL_DYNAMODB=moto, no Java). */
  dynamodbEndpoint: string;
  /** 'dynamodb-local' or 'moto'. */
  dynamodbEngine: string;
}

/**
 * startOwnEmulator, plus DynamoDB Local on a free port when planDynamoDb (LOCAL_DYNAMODB, default
 * auto) picks it. An outage (pause) freezes both processes, as an AWS region outage would.
 */
export async function startOwnEngines(dir: string): Promise<OwnEngines> {
  const emulator = await startOwnEmulator(path.join(dir, 'emulator.log'));
  try {
    const plan = await planDynamoDb(
      { engine: dynamoEngineFromEnv(), awsEndpoint: emulator.endpoint, awsSource: 'emulator' },
      realDynamoProbes,
    );
    if (plan.kind === 'error') throw new Error(plan.message);
    if (plan.kind !== 'dynamodb-local')
      return Object.assign(emulator, { dynamodbEndpoint: emulator.endpoint, dynamodbEngine: 'moto' });
    const dynamo = await startDynamoDbLocal(await freePort());
    let paused = false;
    return {
      endpoint: emulator.endpoint,
      pid: emulator.pid,
      dynamodbEndpoint: dynamo.endpoint,
      dynamodbEngine: 'dynamodb-local',
      get paused() {
        return paused;
      },
      pause: () => {
        paused = true;
        emulator.pause();
        signalGroup(dynamo.pid, 'SIGSTOP');
      },
      resume: () => {
        signalGroup(dynamo.pid, 'SIGCONT');
        emulator.resume();
        paused = false;
      },
      stop: async () => {
        signalGroup(dynamo.pid, 'SIGCONT');
        await Promise.allSettled([emulator.stop(), dynamo.stop()]);
      },
      killNow: () => {
        emulator.killNow();
        signalGroup(dynamo.pid, 'SIGCONT');
        signalGroup(dynamo.pid, 'SIGKILL');
      },
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}

export interface OwnRedis {
  url: string;
  port: number;
  readonly running: boolean;
  /** Starts redis-server (again) on the same port; resolves once it answers. */
  start(): Promise<void>;
  /** SIGKILL, as a crash would: nothing is saved (it runs without persistence anyway). */
  crash(): Promise<void>;
  stop(): Promise<void>;
  killNow(): void;
}

export async function startOwnRedis(logFile: string): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    try {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: ['ignore', fd, fd],
        },
      );
    } finally {
      closeSync(fd);
    }
    const started = child;
    let failed: string | undefined;
    started.once('error', (error) => (failed = error.message));
    for (let i = 0; i < 100 && !failed; i++) {
      if (await tcpAnswers(port)) return;
      await sleep(100);
    }
    throw new Error(`redis-server on port ${port} did not answer${failed ? `: ${failed}` : ''}; see ${logFile}`);
  };
  const waitExit = async (c: ChildProcess): Promise<void> => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => c.once('exit', () => resolve()));
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    start,
    crash: async () => {
      const c = child;
      if (!c) return;
      c.kill('SIGKILL');
      await waitExit(c);
    },
    stop: async () => {
      const c = child;
      if (!c) return;
      c.kill('SIGTERM');
      await Promise.race([waitExit(c), unrefSleep(3000)]);
      c.kill('SIGKILL');
    },
    killNow: () => {
      child?.kill('SIGKILL');
    },
  };
}
