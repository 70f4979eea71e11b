/**
 * Where the local AWS endpoint comes from. planLocalAws is pure decision logic over injected
 * probes, so it is tested with fakes; ensureLocalAws/startEmulator are tested for real.
 */
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { CreateTableCommand, DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { freePort } from '../../scripts/chaos/infra';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients';
import {
  ensureLocalAws,
  ensureLocalRedis,
  gatewayDynamoDbUpstream,
  javaRunsSource,
  localEmulatorPort,
  tcpAnswers,
  httpAnswers,
  isLocalDefault,
  NO_ENDPOINT_MESSAGE,
  parseJavaMajor,
  planDynamoDb,
  planLocalAws,
  realDynamoProbes,
  realProbes,
  startDynamoDbLocal,
  startEmulator,
  type DynamoEngine,
  type DynamoProbes,
  type Preference,
  type Probes,
  type Source,
} from '../../scripts/local-aws';

const DEFAULT = 'http://127.0.0.1:4566';

/** A DynamoDB call on these endpoints answers (ListTables returns a list). */
async function expectDynamoDbAnswers(endpoints: { awsEndpoint?: string; dynamodbEndpoint?: string }): Promise<void> {
  const clients = createAwsClients({ ...endpoints, awsRegion: 'us-east-1' });
  try {
    const { TableNames } = await clients.ddb.send(new ListTablesCommand({}));
    expect(Array.isArray(TableNames)).toBe(true);
  } finally {
    destroyAwsClients(clients);
  }
}

/** Fake probes: `answering` lists the URLs that answer; every call is recorded. */
function fakes(facts: { answering?: string[]; moto?: boolean; docker?: boolean }) {
  const calls: string[] = [];
  const probes: Probes = {
    endpointAnswers: async (url) => (calls.push(`endpoint ${url}`), (facts.answering ?? []).includes(url)),
    motoAvailable: async () => (calls.push('moto'), facts.moto ?? false),
    dockerAnswers: async () => (calls.push('docker'), facts.docker ?? false),
  };
  return { probes, calls };
}

const plan = (envEndpoint: string | undefined, prefer: Preference, facts: Parameters<typeof fakes>[0]) => {
  const { probes, calls } = fakes(facts);
  return planLocalAws({ envEndpoint, prefer }, probes).then((result) => ({ result, calls }));
};

describe('planLocalAws', () => {
  describe.each<Preference>(['emulator', 'localstack'])('prefer %s', (prefer) => {
    it('uses AWS_ENDPOINT_URL when it answers, and probes nothing else', async () => {
      const url = 'http://aws.example:9999';
      const { result, calls } = await plan(url, prefer, { answering: [url], moto: true, docker: true });
      expect(result).toEqual({ kind: 'existing', endpoint: url });
      expect(calls).toEqual([`endpoint ${url}`]);
    });

    it('fails clearly when a remote AWS_ENDPOINT_URL does not answer (starts nothing)', async () => {
      const url = 'http://aws.example:9999';
      const { result, calls } = await plan(url, prefer, { answering: [DEFAULT], moto: true, docker: true });
      expect(result).toMatchObject({ kind: 'error' });
      expect(result.kind === 'error' && result.message).toContain(`AWS_ENDPOINT_URL=${url} does not answer`);
      expect(calls).toEqual([`endpoint ${url}`]);
    });

    it('fails with the one message when nothing answers, no moto, no Docker', async () => {
      const { result } = await plan(undefined, prefer, {});
      expect(result).toEqual({ kind: 'error', message: NO_ENDPOINT_MESSAGE });
      expect(NO_ENDPOINT_MESSAGE).toMatch(/AWS_ENDPOINT_URL.*pip install 'moto\[server\]'.*Docker/);
    });

    it('treats an empty AWS_ENDPOINT_URL as unset', async () => {
      const { result } = await plan('  ', prefer, { moto: true });
      expect(result).toEqual({ kind: 'emulator', port: 4566 });
    });
  });

  describe("prefer 'emulator' (npm run dev)", () => {
    it('reuses whatever answers on 127.0.0.1:4566 before starting anything', async () => {
      const { result, calls } = await plan(undefined, 'emulator', { answering: [DEFAULT], moto: true, docker: true });
      expect(result).toEqual({ kind: 'existing', endpoint: DEFAULT });
      expect(calls).toEqual([`endpoint ${DEFAULT}`]);
    });

    it('starts the moto emulator when nothing answers, without asking Docker', async () => {
      const { result, calls } = await plan(undefined, 'emulator', { moto: true, docker: true });
      expect(result).toEqual({ kind: 'emulator', port: 4566 });
      expect(calls).toEqual([`endpoint ${DEFAULT}`, 'moto']);
    });

    it('starts the emulator when AWS_ENDPOINT_URL is the silent local default (probed once)', async () => {
      for (const url of [DEFAULT, 'http://localhost:4566/', 'http://localhost:4566']) {
        const { result, calls } = await plan(url, 'emulator', { moto: true });
        expect(result).toEqual({ kind: 'emulator', port: 4566 });
        expect(calls).toEqual([`endpoint ${url}`, 'moto']);
      }
    });

    it('starts the emulator on the port a silent local AWS_ENDPOINT_URL names, never on 4566', async () => {
      for (const url of ['http://127.0.0.1:14566', 'http://localhost:14566/']) {
        const { result, calls } = await plan(url, 'emulator', { answering: [DEFAULT], moto: true });
        expect(result).toEqual({ kind: 'emulator', port: 14566 });
        expect(calls).toEqual([`endpoint ${url}`, 'moto']);
      }
    });

    it('refuses a silent AWS_ENDPOINT_URL it cannot start an emulator on (https, a path, a remote host)', async () => {
      for (const url of ['https://127.0.0.1:14566', 'http://127.0.0.1:14566/base', 'http://10.0.0.5:4566']) {
        const { result } = await plan(url, 'emulator', { moto: true });
        expect(result.kind === 'error' && result.message).toContain(`AWS_ENDPOINT_URL=${url} does not answer`);
      }
    });

    it('falls back to LocalStack without moto when Docker answers', async () => {
      const { result, calls } = await plan(undefined, 'emulator', { moto: false, docker: true });
      expect(result).toEqual({ kind: 'localstack' });
      expect(calls).toEqual([`endpoint ${DEFAULT}`, 'moto', 'docker']);
    });
  });

  describe("prefer 'localstack' (tests)", () => {
    it('uses LocalStack when Docker answers, before anything else', async () => {
      const { result, calls } = await plan(undefined, 'localstack', { answering: [DEFAULT], moto: true, docker: true });
      expect(result).toEqual({ kind: 'localstack' });
      expect(calls).toEqual(['docker']);
    });

    it('without Docker reuses 127.0.0.1:4566, else starts the emulator', async () => {
      const reuse = await plan(undefined, 'localstack', { answering: [DEFAULT], moto: true });
      expect(reuse.result).toEqual({ kind: 'existing', endpoint: DEFAULT });
      expect(reuse.calls).toEqual(['docker', `endpoint ${DEFAULT}`]);
      const start = await plan(undefined, 'localstack', { moto: true });
      expect(start.result).toEqual({ kind: 'emulator', port: 4566 });
      expect(start.calls).toEqual(['docker', `endpoint ${DEFAULT}`, 'moto']);
    });

    it('with a silent local-default AWS_ENDPOINT_URL still prefers LocalStack', async () => {
      const { result } = await plan(DEFAULT, 'localstack', { moto: true, docker: true });
      expect(result).toEqual({ kind: 'localstack' });
    });
  });

  it('knows the addresses it may start an emulator on', () => {
    expect(localEmulatorPort('http://127.0.0.1:14566')).toBe(14566);
    expect(localEmulatorPort('http://localhost:4566/')).toBe(4566);
    expect(localEmulatorPort('http://localhost')).toBe(80);
    expect(localEmulatorPort('https://127.0.0.1:4566')).toBeUndefined();
    expect(localEmulatorPort('http://localstack:4566')).toBeUndefined();
    expect(localEmulatorPort('http://127.0.0.1:4566/x')).toBeUndefined();
    expect(localEmulatorPort('not a url')).toBeUndefined();
  });

  it('knows the local default address', () => {
    expect(isLocalDefault('http://127.0.0.1:4566')).toBe(true);
    expect(isLocalDefault('http://localhost:4566/')).toBe(true);
    expect(isLocalDefault('http://127.0.0.1:4567')).toBe(false);
    expect(isLocalDefault('https://127.0.0.1:4566')).toBe(false);
    expect(isLocalDefault('http://localstack:4566')).toBe(false);
    expect(isLocalDefault('not a url')).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------
// Real processes
// ------------------------------------------------------------------------------------------------
const redisInstalled = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
const motoInstalled = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;

const refuse: Probes = {
  endpointAnswers: (url) => realProbes.endpointAnswers(url),
  motoAvailable: async () => {
    throw new Error('must not look for moto: the endpoint answers');
  },
  dockerAnswers: async () => {
    throw new Error('must not look for Docker: the endpoint answers');
  },
};

describe('planDynamoDb', () => {
  const local = 'http://127.0.0.1:4566';
  function dynamoFakes(facts: { answering?: string[]; java?: number; installed?: boolean }) {
    const calls: string[] = [];
    const probes: DynamoProbes = {
      endpointAnswers: async (url) => (calls.push(`endpoint ${url}`), (facts.answering ?? []).includes(url)),
      javaMajor: async () => (calls.push('java'), facts.java),
      dynamoDbLocalInstalled: () => (calls.push('installed'), facts.installed ?? true),
    };
    return { probes, calls };
  }
  const planFor = async (
    input: { envEndpoint?: string; engine?: DynamoEngine; awsEndpoint?: string; awsSource?: Source },
    facts: Parameters<typeof dynamoFakes>[0],
  ) => {
    const { probes, calls } = dynamoFakes(facts);
    const result = await planDynamoDb({ engine: 'auto', awsEndpoint: local, awsSource: 'emulator', ...input }, probes);
    return { result, calls };
  };

  it('starts DynamoDB Local beside a local emulator when Java >= 17 answers', async () => {
    expect((await planFor({}, { java: 17 })).result).toEqual({ kind: 'dynamodb-local' });
    expect((await planFor({ awsSource: 'existing' }, { java: 21 })).result).toEqual({ kind: 'dynamodb-local' });
  });

  it('falls back to the emulator without Java 17, without the package, or when told to', async () => {
    const noJava = await planFor({}, {});
    expect(noJava.result).toMatchObject({ kind: 'shared', reason: expect.stringContaining('no java') });
    expect((await planFor({}, { java: 11 })).result).toMatchObject({
      kind: 'shared',
      reason: expect.stringContaining('java 11 < 17'),
    });
    expect((await planFor({}, { java: 17, installed: false })).result).toMatchObject({ kind: 'shared' });
    const forced = await planFor({ engine: 'moto' }, { java: 17 });
    expect(forced.result).toMatchObject({ kind: 'shared' });
    expect(forced.calls).toEqual([]);
  });

  it('leaves DynamoDB to LocalStack and to a remote endpoint', async () => {
    expect(
      (await planFor({ awsSource: 'localstack', awsEndpoint: 'http://127.0.0.1:32768' }, { java: 17 })).result,
    ).toMatchObject({ kind: 'shared' });
    const remote = await planFor({ awsSource: 'existing', awsEndpoint: 'http://aws.example:4566' }, { java: 17 });
    expect(remote.result).toMatchObject({ kind: 'shared' });
    expect(remote.calls).toEqual([]);
  });

  it('uses AWS_ENDPOINT_URL_DYNAMODB when it answers, and fails clearly when it does not', async () => {
    const url = 'http://127.0.0.1:8000';
    const ok = await planFor({ envEndpoint: url }, { answering: [url], java: 17 });
    expect(ok.result).toEqual({ kind: 'existing', endpoint: url });
    expect(ok.calls).toEqual([`endpoint ${url}`]);
    const silent = await planFor({ envEndpoint: url }, { java: 17 });
    expect(silent.result.kind === 'error' && silent.result.message).toContain(
      `AWS_ENDPOINT_URL_DYNAMODB=${url} does not answer`,
    );
  });

  it('LOCAL_DYNAMODB=dynamodb-local without Java is an error that names the package to install', async () => {
    const { result } = await planFor({ engine: 'dynamodb-local' }, {});
    expect(result.kind === 'error' && result.message).toContain('default-jre-headless');
  });

  it('reads Java versions old and new', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('bash: java: command not found')).toBeUndefined();
  });
});

describe('ensureLocalAws with real services', () => {
  it('reuses the emulator running at AWS_ENDPOINT_URL and leaves it running on stop()', async () => {
    // The endpoint globalSetup exported; without globalSetup, one started here for the test.
    const own = process.env.AWS_ENDPOINT_URL ? undefined : await startEmulator(await freePort());
    const endpoint = process.env.AWS_ENDPOINT_URL ?? own!.endpoint;
    try {
      const aws = await ensureLocalAws({
        prefer: 'localstack',
        envEndpoint: endpoint,
        probes: refuse,
        dynamodb: { engine: 'moto' },
      });
      expect(aws).toMatchObject({ endpoint, source: 'existing' });
      await aws.stop();
      expect(await httpAnswers(endpoint)).toBe(true);
      await expectDynamoDbAnswers({ awsEndpoint: aws.endpoint });
    } finally {
      await own?.stop();
    }
  });

  // Without python3 + moto there is no emulator to start (the DynamoDB Local path is tested above).
  (motoInstalled ? it : it.skip)('startEmulator serves DynamoDB, /health, and stop() ends it', async () => {
    const port = await freePort();
    const aws = await startEmulator(port);
    try {
      expect(aws).toMatchObject({ endpoint: `http://127.0.0.1:${port}`, source: 'emulator' });
      const health = await fetch(`${aws.endpoint}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', dynamodbUpstream: null }); // serves DynamoDB itself
    } finally {
      await aws.stop();
    }
    expect(await httpAnswers(aws.endpoint, 500)).toBe(false);
    await aws.stop(); // twice is harmless
  });

  it('startDynamoDbLocal serves DynamoDB, and stop() ends it (where Java >= 17 answers)', async () => {
    const java = await realDynamoProbes.javaMajor();
    if (java === undefined || java < 17) {
      process.stderr.write('skipped: no Java >= 17 here\n');
      return;
    }
    const dynamo = await startDynamoDbLocal(await freePort());
    try {
      await expectDynamoDbAnswers({ dynamodbEndpoint: dynamo.endpoint });
      // On loopback only where a JDK can launch the loopback launcher: another address of this
      // machine is refused.
      expect(dynamo.listensOn).toBe(javaRunsSource() ? '127.0.0.1' : '*');
      const external = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (javaRunsSource() && external) {
        const port = Number(new URL(dynamo.endpoint).port);
        expect(await tcpAnswers(external, port)).toBe(false);
      }
    } finally {
      await dynamo.stop();
    }
    expect(await httpAnswers(dynamo.endpoint, 500)).toBe(false);
  });

  it('fails with one clear message for a silent remote AWS_ENDPOINT_URL', async () => {
    const url = 'http://aws.invalid:4566';
    await expect(ensureLocalAws({ prefer: 'emulator', envEndpoint: url })).rejects.toThrow(
      `AWS_ENDPOINT_URL=${url} does not answer`,
    );
  });

  // One gateway: the emulator started here forwards DynamoDB to the DynamoDB Local started here.
  (motoInstalled ? it : it.skip)(
    'an emulator started on a silent local AWS_ENDPOINT_URL serves SQS and forwards DynamoDB to DynamoDB Local',
    async () => {
      const java = await realDynamoProbes.javaMajor();
      const port = await freePort();
      const lines: string[] = [];
      const aws = await ensureLocalAws({
        prefer: 'emulator',
        envEndpoint: `http://127.0.0.1:${port}`,
        gateway: true,
        log: (line) => lines.push(line),
        dynamodb: { envEndpoint: undefined, port: 'free' },
      });
      try {
        expect(aws.endpoint).toBe(`http://127.0.0.1:${port}`);
        if (java === undefined || java < 17) return;
        expect(aws.dynamodbSource).toBe('dynamodb-local');
        expect(aws.dynamodbEndpoint).not.toBe(aws.endpoint);
        expect(lines.join('\n')).toContain(`DynamoDB forwarded to ${aws.dynamodbEndpoint}`);
        // A table made through DynamoDB Local is listed through the gateway, and the reverse.
        const direct = createAwsClients({ awsEndpoint: aws.dynamodbEndpoint, awsRegion: 'us-east-1' });
        const gateway = createAwsClients({ awsEndpoint: aws.endpoint, awsRegion: 'us-east-1' });
        try {
          const name = `gw-${port}`;
          await direct.ddb.send(
            new CreateTableCommand({
              TableName: name,
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
              KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
              StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
            }),
          );
          expect((await gateway.ddb.send(new ListTablesCommand({}))).TableNames).toContain(name);
          await gateway.doc.send(new PutCommand({ TableName: name, Item: { k: 'a', v: 1 } }));
          expect((await direct.doc.send(new GetCommand({ TableName: name, Key: { k: 'a' } }))).Item).toEqual({
            k: 'a',
            v: 1,
          });
          // DynamoDB Streams (DynamoDBStreams_20120810.* targets) is forwarded too: the table's
          // stream, read through the gateway, holds the write (the list stream's tail reads it so).
          const StreamArn = (await gateway.ddb.send(new DescribeTableCommand({ TableName: name }))).Table!
            .LatestStreamArn!;
          const shard = (await gateway.streams.send(new DescribeStreamCommand({ StreamArn }))).StreamDescription!
            .Shards![0];
          const { ShardIterator } = await gateway.streams.send(
            new GetShardIteratorCommand({ StreamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
          );
          const { Records } = await gateway.streams.send(new GetRecordsCommand({ ShardIterator }));
          expect(Records?.map((r) => [r.eventName, r.dynamodb?.NewImage?.k?.S])).toEqual([['INSERT', 'a']]);
          const health = (await (await fetch(`${aws.endpoint}/health`)).json()) as { dynamodbUpstream?: string };
          expect(health.dynamodbUpstream).toBe(aws.dynamodbEndpoint);
          expect(await gatewayDynamoDbUpstream(aws.endpoint)).toBe(aws.dynamodbEndpoint);
        } finally {
          destroyAwsClients(direct);
          destroyAwsClients(gateway);
        }
      } finally {
        await aws.stop();
      }
      expect(await httpAnswers(aws.endpoint, 500)).toBe(false);
      expect(await httpAnswers(aws.dynamodbEndpoint, 500)).toBe(false);
    },
  );

  // Without python3 + moto there is no emulator to reuse.
  (motoInstalled ? it : it.skip)(
    'with gateway: true, a reused endpoint keeps its own DynamoDB (announced)',
    async () => {
      const own = await startEmulator(await freePort());
      try {
        const lines: string[] = [];
        const aws = await ensureLocalAws({
          prefer: 'emulator',
          envEndpoint: own.endpoint,
          gateway: true,
          log: (line) => lines.push(line),
          dynamodb: { envEndpoint: undefined },
        });
        expect(aws).toMatchObject({ endpoint: own.endpoint, source: 'existing', dynamodbEndpoint: own.endpoint });
        expect(lines.join('\n')).toContain(`reusing the AWS endpoint already answering at ${own.endpoint}`);
        await aws.stop();
        expect(await httpAnswers(own.endpoint)).toBe(true); // not ours to stop
      } finally {
        await own.stop();
      }
    },
  );
});

describe('ensureLocalRedis', () => {
  // Without a redis-server binary there is nothing to start.
  (redisInstalled ? it : it.skip)('starts redis-server when nothing answers locally, and stop() ends it', async () => {
    const port = await freePort();
    const redis = await ensureLocalRedis(`redis://127.0.0.1:${port}`);
    try {
      expect(redis.started).toBe(true);
      expect(await tcpAnswers('127.0.0.1', port)).toBe(true);
      // A second call finds it answering and owns nothing.
      const again = await ensureLocalRedis(`redis://127.0.0.1:${port}`);
      expect(again.started).toBe(false);
    } finally {
      await redis.stop();
    }
    for (let i = 0; i < 50 && (await tcpAnswers('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await tcpAnswers('127.0.0.1', port)).toBe(false);
  });

  it('does not try to start a remote Redis', async () => {
    await expect(ensureLocalRedis('redis://redis.invalid:6379')).rejects.toThrow(
      /Redis does not answer at redis:\/\/redis.invalid:6379/,
    );
  });
});
