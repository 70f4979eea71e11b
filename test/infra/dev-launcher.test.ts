/**
 * `npm run dev` stops every process it started, whatever the path out (issue 22 kind 5: a DynamoDB
 * Local and an emulator outlived the `npm run dev` that started them). The real launcher is run:
 * it starts the emulator (python) and DynamoDB Local (java), each in its own process group, and the
 * service; then it is stopped by
 * SIGTERM to npm, SIGINT or SIGHUP to its process group (a terminal's Ctrl-C, a closed terminal),
 * or killed outright (SIGKILL, which no handler sees: its reaper must act).
 * Afterwards the engines' ports and the service's port are silent and their processes gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { freePort, processAlive, tcpAnswers } from '../../scripts/local-aws';
import { eventually } from '../support/service';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../..');

interface Launched {
  npm: ChildProcess;
  output: () => string;
  exited: Promise<unknown>;
  dynamoPort: number;
  servicePid: number;
  launcherPid: number;
  apiPort: number;
  awsPort: number;
}

async function launch(): Promise<Launched> {
  const apiPort = await freePort();
  // A free local port in AWS_ENDPOINT_URL: dev starts an emulator (python) and DynamoDB Local (java) of its own.
  const awsPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.AWS_ENDPOINT_URL_DYNAMODB;
  const npm = spawn('npm', ['run', 'dev'], {
    cwd: ROOT,
    // Its own group, so the test can clean up whatever a failure leaves.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...env,
      PORT: String(apiPort),
      METRICS_PORT: String(await freePort()),
      RESOURCE_PREFIX: `devl-${randomUUID().slice(0, 8)}-`,
      LOCAL_DYNAMODB: 'dynamodb-local',
      AWS_ENDPOINT_URL: `http://127.0.0.1:${awsPort}`,
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '3000',
    },
  });
  let out = '';
  npm.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  npm.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise((r) => npm.on('exit', r));
  const started = await eventually(
    async () => /service starting \(pid (\d+); launcher pid (\d+)\)/.exec(out),
    (m) => m !== null || npm.exitCode !== null,
    120000,
  );
  if (!started) throw new Error(`npm run dev did not start:\n${out}`);
  const dynamo = /DynamoDB Local ready at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
  if (!dynamo) throw new Error(`no DynamoDB Local started:\n${out}`);
  if (!out.includes(`emulator ready at http://127.0.0.1:${awsPort}`)) throw new Error(`no emulator started:\n${out}`);
  await eventually(
    () => tcpAnswers('127.0.0.1', apiPort),
    (up) => up,
    120000,
  );
  return {
    npm,
    output: () => out,
    exited,
    dynamoPort: Number(dynamo[1]),
    servicePid: Number(started[1]),
    launcherPid: Number(started[2]),
    apiPort,
    awsPort,
  };
}

/** Everything it started is gone: the engine's and the API's ports are silent, the processes dead. */
async function expectAllGone(run: Launched): Promise<void> {
  const state = async () => ({
    dynamo: await tcpAnswers('127.0.0.1', run.dynamoPort),
    emulator: await tcpAnswers('127.0.0.1', run.awsPort),
    api: await tcpAnswers('127.0.0.1', run.apiPort),
    service: processAlive(run.servicePid),
    launcher: processAlive(run.launcherPid),
  });
  const last = await eventually(
    state,
    (s) => !s.dynamo && !s.emulator && !s.api && !s.service && !s.launcher,
    60000,
  ).catch(async () => state());
  expect(last).toEqual({ dynamo: false, emulator: false, api: false, service: false, launcher: false });
}

function killGroup(npm: ChildProcess): void {
  try {
    process.kill(-(npm.pid ?? 0), 'SIGKILL');
  } catch {
    /* gone */
  }
}

it('SIGTERM to npm (a supervisor stopping it; npm does not pass it on) stops the engines and the service', async () => {
  const run = await launch();
  try {
    expect(await tcpAnswers('127.0.0.1', run.dynamoPort)).toBe(true);
    run.npm.kill('SIGTERM');
    await run.exited;
    await expectAllGone(run);
  } finally {
    killGroup(run.npm);
  }
});

it.each(['SIGINT', 'SIGHUP'] as const)(
  '%s to the foreground group (Ctrl-C, a closed terminal) stops the engines and the service',
  async (signal) => {
    const run = await launch();
    try {
      process.kill(-(run.npm.pid ?? 0), signal);
      await expectAllGone(run);
    } finally {
      killGroup(run.npm);
    }
  },
);

it('the launcher killed outright (SIGKILL, no handler runs): its reaper stops what it started', async () => {
  const run = await launch();
  try {
    process.kill(run.launcherPid, 'SIGKILL');
    await expectAllGone(run);
  } finally {
    killGroup(run.npm);
  }
});
