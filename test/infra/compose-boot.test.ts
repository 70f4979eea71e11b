/**
 * `docker compose up`, without Docker: the built service (`npm run build` → dist/, laid out as the
 * Dockerfile's runtime stage lays it out) boots with exactly the compose file's `app` environment
 * on top of the Dockerfile's ENV, gets its tokens the way the compose file's header tells a user
 * to (the `issuer` service's /token, that service's own code run as compose runs it), and takes an
 * order to COMPLETED through the real HTTP API.
 *
 * What differs from compose, and only that:
 * - host:port of the compose host names: localstack:4566 → the local AWS emulator (it serves
 *   DynamoDB and SQS on one endpoint, as LocalStack does), redis:6379 → the local Redis,
 *   issuer:9000 → the issuer started here on a free port;
 * - PORT and METRICS_PORT → free ports (other processes on this machine may hold 8080 and 9464);
 * - RESOURCE_PREFIX, so this run's tables, queues and Redis keys are its own on shared engines
 *   (LocalStack's init hook creates them unprefixed; here initResources, which compose.test.ts's
 *   INIT_SCRIPT_E2E check proves equal to the hook, creates them with the prefix);
 * - node_modules is the checkout's (the image's holds the production dependencies only; the last
 *   test checks that those are all the built code needs).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ROLES } from '../../src/http/auth/principal';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../src/aws/clients';
import { DEV_ISSUER, DEV_KEY_ID_PREFIX } from '../../src/config/auth-config';
import { loadConfig } from '../../src/config/config';
import { initResources } from '../../src/infra/init';
import { resourceNames } from '../../src/infra/resources';
import { DEV_AUDIENCE } from '../../scripts/auth/dev-keys';
import { deleteResources, TEST_ENDPOINT, uniquePrefix } from '../support/aws';
import { http } from '../support/http';
import { eventually } from '../support/service';
import { ROOT, asList, dockerfileRuntime, envOf, healthcheckArgv, ports, read, service, volumes } from './compose-file';

const app = service('app');
const issuer = service('issuer');
const runtime = dockerfileRuntime();
const LOCAL_REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

/** The token URL the compose file's header documents: `curl -s 'http://localhost:9000/token?…'`. */
const DOCUMENTED_TOKEN_URL = (() => {
  const m = /^# +TOKEN=\$\(curl -s '(http:\/\/localhost:\d+\/token\?[^']+)'\)/m.exec(read('docker-compose.yml'));
  if (!m) throw new Error("docker-compose.yml's header no longer shows how to get a token");
  return new URL(m[1]);
})();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}
function start(argv: string[], options: { cwd: string; env: Record<string, string> }): Proc {
  const child = spawn(argv[0], argv.slice(1), { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
/** A compose `node …` command, run with this machine's Node (the same major: node-version.test.ts). */
const nodeArgv = (argv: string[]) => (argv[0] === 'node' ? [process.execPath, ...argv.slice(1)] : argv);

const decode = (jwt: string, part: 0 | 1) =>
  JSON.parse(Buffer.from(jwt.split('.')[part], 'base64url').toString()) as Record<string, unknown>;

let image: string;
let issuerProc: Proc;
let appProc: Proc;
let issuerPort: number;
let env: Record<string, string>;
let baseUrl: string;
let clients: AwsClients;
let prefix: string;

/** A token minted the documented way, for `role` and `sub`. */
async function token(role: string, sub: string): Promise<string> {
  const url = new URL(DOCUMENTED_TOKEN_URL);
  url.port = String(issuerPort);
  url.searchParams.set('role', role);
  url.searchParams.set('sub', sub);
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.text()).trim();
}

beforeAll(async () => {
  // 1. The image's layout: `npm run build`, then the runtime stage's COPY --from=build lines.
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  image = mkdtempSync(path.join(os.tmpdir(), 'eventticket-image-'));
  const buildWorkdir = '/app';
  for (const { source, target } of runtime.copiesFromBuild) {
    cpSync(path.join(ROOT, path.posix.relative(buildWorkdir, source)), path.join(image, target), { recursive: true });
  }
  cpSync(path.join(ROOT, 'package.json'), path.join(image, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(image, 'node_modules'), 'dir');

  // 2. The issuer service: its command, its mounted file, its environment (port rewritten).
  issuerPort = await freePort();
  const command = asList(issuer.command, 'issuer.command').map((arg) => {
    const mount = volumes(issuer).find((v) => v.target === arg);
    return mount ? path.join(ROOT, mount.source) : arg;
  });
  const issuerContainerPort = ports(issuer)[0].container;
  issuerProc = start(nodeArgv(command), {
    cwd: ROOT,
    env: { ...envOf(issuer), ISSUER_PORT: String(issuerPort), ISSUER_HOST: '127.0.0.1' },
  });
  await eventually(
    () =>
      fetch(`http://127.0.0.1:${issuerPort}/health`).then(
        (r) => r.status,
        () => 0,
      ),
    (status) => status === 200,
    15000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nissuer output:\n${issuerProc.output()}`);
  });

  // 3. The app's environment: the image's ENV, the compose environment over it, host:port rewritten.
  const [appPort, metricsPort] = [await freePort(), await freePort()];
  const emulator = new URL(TEST_ENDPOINT);
  const hostPorts: Record<string, string> = {
    'localstack:4566': emulator.host,
    [`redis:${6379}`]: LOCAL_REDIS.host,
    [`issuer:${issuerContainerPort}`]: `127.0.0.1:${issuerPort}`,
  };
  prefix = uniquePrefix('compose');
  env = Object.fromEntries(
    Object.entries({ ...runtime.env, ...envOf(app) }).map(([name, value]) => [
      name,
      Object.entries(hostPorts).reduce((v, [from, to]) => v.split(`//${from}`).join(`//${to}`), value),
    ]),
  );
  env.PORT = String(appPort);
  env.METRICS_PORT = String(metricsPort);
  env.RESOURCE_PREFIX = prefix;
  baseUrl = `http://127.0.0.1:${appPort}`;

  // 4. What LocalStack's init hook creates, under this run's prefix, on the endpoint the app uses.
  clients = createAwsClients(loadConfig(env));
  await initResources(clients, prefix);

  // 5. The image's CMD, in its WORKDIR.
  appProc = start(nodeArgv(runtime.cmd), { cwd: image, env });
  await eventually(
    () => {
      // An app that exited (a refused configuration, say) will never answer: say why at once.
      if (appProc.child.exitCode !== null) throw new Error(`the app exited with ${appProc.child.exitCode}`);
      return fetch(`${baseUrl}/actuator/health`).then(
        (r) => r.status,
        () => 0,
      );
    },
    (status) => status === 200,
    60000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\napp output:\n${appProc.output()}`);
  });
}, 240000);

afterAll(async () => {
  for (const proc of [appProc, issuerProc]) {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  }
  if (clients) {
    await deleteResources(clients, resourceNames(prefix));
    destroyAwsClients(clients);
  }
  if (image) rmSync(image, { recursive: true, force: true });
}, 60000);

describe('the built service with the compose environment', () => {
  it('rewrote only host:port (and the free ports and prefix) of the compose environment', () => {
    const composed = { ...runtime.env, ...envOf(app) };
    expect(Object.keys(env).sort()).toEqual([...Object.keys(composed), 'RESOURCE_PREFIX'].sort());
    for (const name of Object.keys(composed)) {
      if (['PORT', 'METRICS_PORT'].includes(name)) continue;
      const mask = (v: string) => v.replace(/\/\/[^/]+/, '//HOST');
      expect({ name, value: mask(env[name]) }).toEqual({ name, value: mask(composed[name]) });
    }
  });

  it('is healthy by the compose healthcheck, its own command run against it', () => {
    const argv = healthcheckArgv(app, 'app').map((arg) =>
      arg.split(`127.0.0.1:${envOf(app).PORT}`).join(`127.0.0.1:${env.PORT}`),
    );
    const probe = spawnSync(nodeArgv(argv)[0], nodeArgv(argv).slice(1), { encoding: 'utf8', timeout: 15000 });
    expect({ status: probe.status, stderr: probe.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('has authentication on: no token, 401', async () => {
    const res = await http(baseUrl, 'GET', '/orders');
    expect(res.status).toBe(401);
  });

  it('serves Prometheus metrics on METRICS_PORT', async () => {
    const res = await fetch(`http://127.0.0.1:${env.METRICS_PORT}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^# HELP /m);
  });

  it("takes an order to COMPLETED with tokens from the issuer's documented /token", async () => {
    const eventId = `compose-${randomUUID()}`;
    const organizer = { authorization: `Bearer ${await token('organizer', 'organizer-1')}` };
    const stock = await http(
      baseUrl,
      'PUT',
      `/events/${eventId}/inventory`,
      {
        eventName: 'Compose night',
        ticketTypes: [{ ticketType: 'GA', totalQuantity: 10, price: 49.5, currency: 'EUR' }],
      },
      organizer,
    );
    expect(stock.status).toBeLessThan(300);

    const customer = { authorization: `Bearer ${await token('customer', 'customer-1')}` };
    const placed = await http<{ orderId: string; status: string }>(
      baseUrl,
      'POST',
      '/orders',
      { eventId, items: [{ ticketType: 'GA', quantity: 2 }], paymentToken: 'tok_success' },
      { ...customer, 'idempotency-key': `compose-${randomUUID()}` },
    );
    expect(placed.status).toBe(202);
    const final = await eventually(
      () => http<{ status: string }>(baseUrl, 'GET', `/orders/${placed.body.orderId}`, undefined, customer),
      (res) => ['COMPLETED', 'CANCELLED', 'FAILED'].includes(res.body.status),
      60000,
    );
    expect(final.body.status).toBe('COMPLETED');
  }, 90000);

  it("mints development tokens only (refused in production) for the service's roles", async () => {
    for (const role of ROLES) {
      const jwt = await token(role, `${role}-1`);
      expect(decode(jwt, 0)).toMatchObject({ alg: 'ES256', kid: expect.stringMatching(`^${DEV_KEY_ID_PREFIX}`) });
      expect(decode(jwt, 1)).toMatchObject({ iss: DEV_ISSUER, aud: DEV_AUDIENCE, sub: `${role}-1`, roles: [role] });
    }
    const url = new URL(DOCUMENTED_TOKEN_URL);
    url.port = String(issuerPort);
    url.searchParams.set('role', 'admin');
    const refused = await fetch(url);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
  });

  it("refuses to start with the image's NODE_ENV=production on the compose authentication", async () => {
    const refused = start(nodeArgv(runtime.cmd), { cwd: image, env: { ...env, NODE_ENV: 'production' } });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain(
      'the development issuer urn:eventticket:dev is refused with NODE_ENV=production',
    );
  }, 30000);

  it('needs only production dependencies: every package the built code requires is in "dependencies"', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const required = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith('.js')) {
          for (const m of readFileSync(file, 'utf8').matchAll(/\b(?:require|import)\(["']([^"'./][^"']*)["']\)/g)) {
            const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
            if (!name.startsWith('node:') && !builtinModules.includes(name)) required.add(name);
          }
        }
      }
    };
    walk(path.join(image, 'dist'));
    expect(required.size).toBeGreaterThan(5);
    expect([...required].filter((name) => !(name in pkg.dependencies))).toEqual([]);
  });
});
