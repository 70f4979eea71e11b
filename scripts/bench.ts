/**
 * `npm run bench [-- --orders 200 --concurrency 20 --pipeline 1 --runs 3 --compare --no-outcomes --profile]`
 *
 * End-to-end throughput, latency, CPU and AWS cost per completed saga, measured:
 * - the engines are the bench's own, on free ports (the shared 127.0.0.1:4566 is left alone):
 *   DynamoDB Local + moto for SQS where Java >= 17 answers, else moto alone; `--compare` runs both,
 *   alternating, in one go;
 * - the service is a process of its own (`node --import tsx src/main.ts`, `npm run dev` defaults,
 *   logs to a file) with METRICS_PORT: its CPU is `process_cpu_seconds_total` (process.cpuUsage())
 *   and its AWS requests, capacity units and $ are the cost meter's counters, both read from
 *   GET /metrics before and after the measured window;
 * - the engines' CPU comes from /proc (their process groups), the load generator's from its own
 *   process.cpuUsage();
 * - `--pipeline N` (default 1): each buyer keeps N orders open at once, each polled once a second.
 *   With 1, a buyer places its next order only once it has seen the last one end, so 20 buyers
 *   polling once a second cannot exceed ~20 / (1 s + the POST) sagas/s whatever the service does;
 *   a larger N measures what the service can carry;
 * - the load: `--concurrency` buyers, each placing an order (tok_success) and polling its status
 *   once a second until it ends; latency is POST -> the order's COMPLETED updatedAt;
 * - queue depths are sampled every second through the bench's own client (not counted), to show
 *   the backlog moto scans stays small;
 * - unless `--no-outcomes`: after the runs, 20 orders per outcome (completed, declined, sold out,
 *   expired) on a service with a 3-s hold, for requests, units and $ per outcome.
 * Medians of the runs are printed and written between the bench markers in docs/benchmarks.md.
 * `--profile` passes `--cpu-prof` to the service (profiles in .emulator/profiles/).
 *
 * How issue 25 reads it (docs/benchmarks.md): throughput, CPU and cost at 60 buyers
 * (`--orders 300 --concurrency 60 --runs 3 --compare --no-outcomes`), latency at 20 buyers
 * (`--orders 200 --concurrency 20 --runs 3 --compare`); every order is placed with its own customer's
 * token (customerId `bench-<n>`), so the per-customer rate limit is never what is measured. Cost is
 * priced two ways: on-demand and provisioned capacity at 70% target utilization (the cost meter).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { toolAuth } from './auth/tool-auth';
import { readdirSync, readFileSync, writeFileSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../src/aws/clients';
import { loadConfig } from '../src/config/config';
import { initResources } from '../src/infra/init';
import { resourceNames } from '../src/infra/resources';
import { resolveQueueUrls } from '../src/messaging/queues';
import { readQueueDepths } from '../src/ops/queue-depths';
import { flashSaleBench } from './bench-flash-sale';
import {
  dynamoEngineFromEnv,
  freePort,
  httpAnswers,
  killStarted,
  planDynamoDb,
  realDynamoProbes,
  startDynamoDbLocal,
  startEmulator,
  type StartedEngine,
} from './local-aws';
import { loadDevEnv } from './lib/dev-env';

// A running `npm run dev`'s endpoints, prefix and credentials when the environment names none.
loadDevEnv();
const ROOT = path.resolve(__dirname, '..');
const LOG_DIR = path.join(ROOT, '.emulator', 'bench');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = 100; // Linux USER_HZ

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

// ------------------------------------------------------------------------------------------------
// Engines and CPU
// ------------------------------------------------------------------------------------------------
interface Engines {
  name: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  /** Process groups whose CPU counts as this engine's, by label. */
  pgids: Record<string, number>;
}

/** CPU ms used so far by every process in process group `pgid` (from /proc/<pid>/stat). */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
      if (Number(fields[2]) !== pgid) continue; // #5 pgrp
      ticks += Number(fields[11]) + Number(fields[12]); // #14 utime, #15 stime
    } catch {
      /* gone */
    }
  }
  return (ticks * 1000) / CLK_TCK;
}

// ------------------------------------------------------------------------------------------------
// The service process and its /metrics
// ------------------------------------------------------------------------------------------------
interface ServiceProcess {
  baseUrl: string;
  metricsUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServiceProcess(
  engines: Engines,
  prefix: string,
  extraEnv: Record<string, string>,
  label: string,
): Promise<ServiceProcess> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${label}.log`);
  const fd = openSync(logFile, 'a');
  const nodeArgs = ['--import', 'tsx'];
  if (flag('profile')) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, '.emulator', 'profiles')}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...toolAuth().env,
    AWS_ENDPOINT_URL: engines.sqsEndpoint,
    AWS_ENDPOINT_URL_SQS: engines.sqsEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: engines.dynamodbEndpoint,
    RESOURCE_PREFIX: prefix,
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    ...extraEnv,
  };
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...nodeArgs, path.join('src', 'main.ts')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && !(await httpAnswers(`${baseUrl}/actuator/health`, 1000)); i++) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}); log ${logFile}`);
    await sleep(100);
  }
  return {
    baseUrl,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(40000)]);
      if (child.exitCode === null && child.pid) await killStarted(child.pid, 1000);
    },
  };
}

/** The figures the bench reads from /metrics. */
interface Scrape {
  cpuSeconds: number;
  requests: Record<string, number>;
  wru: number;
  rru: number;
  dollars: number;
  /** On provisioned capacity at 70% utilization (the cost meter's second price). */
  dollarsProvisioned: number;
  /** Write units as the engine reported them, by `table` or `table/index`. */
  reportedWru: Record<string, number>;
}

async function scrape(metricsUrl: string): Promise<Scrape> {
  const text = await (await fetch(metricsUrl)).text();
  const s: Scrape = { cpuSeconds: 0, requests: {}, wru: 0, rru: 0, dollars: 0, dollarsProvisioned: 0, reportedWru: {} };
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line) continue;
    const at = line.lastIndexOf(' ');
    const [key, value] = [line.slice(0, at), Number(line.slice(at + 1))];
    if (key === 'process_cpu_seconds_total') s.cpuSeconds = value;
    else if (key === 'eventticket_aws_cost_dollars_total') s.dollars = value;
    else if (key === 'eventticket_aws_cost_provisioned_dollars_total') s.dollarsProvisioned = value;
    else if (key === 'eventticket_dynamodb_capacity_units_total{kind="write"}') s.wru = value;
    else if (key === 'eventticket_dynamodb_capacity_units_total{kind="read"}') s.rru = value;
    else {
      const m = /^eventticket_aws_requests_total\{service="(\w+)",operation="(\w+)"\}$/.exec(key);
      if (m) s.requests[`${m[1]}.${m[2]}`] = value;
      const r =
        /^eventticket_dynamodb_reported_capacity_units_total\{table="([^"]+)",index="([^"]*)",kind="write"\}$/.exec(
          key,
        );
      // Table names without the run's RESOURCE_PREFIX (`b<random>-`), so runs and engines line up.
      const table = r?.[1].replace(/^b[a-z0-9]+-/, '');
      if (r && table) s.reportedWru[r[2] ? `${table}/${r[2]}` : table] = value;
    }
  }
  return s;
}

interface Cost {
  /** Per order, by `Service.Operation`. */
  requests: Record<string, number>;
  dynamodb: number;
  sqs: number;
  wru: number;
  rru: number;
  /** $ per million orders, on-demand. */
  dollarsPerMillion: number;
  /** $ per million orders, DynamoDB provisioned at 70% target utilization. */
  provisionedDollarsPerMillion: number;
  /** Write units per order as the engine reported them, by `table` or `table/index`. */
  reportedWru: Record<string, number>;
}

/** after - before - polls × (the cost of one status read), per order. */
function costPerOrder(before: Scrape, after: Scrape, orders: number, polls = 0, perPoll?: Scrape): Cost {
  const requests: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.requests)) {
    const d = n - (before.requests[op] ?? 0) - polls * (perPoll?.requests[op] ?? 0);
    if (d > 0.0001) requests[op] = d / orders;
  }
  const total = (prefix: string) =>
    Object.entries(requests)
      .filter(([op]) => op.startsWith(prefix))
      .reduce((a, [, n]) => a + n, 0);
  return {
    requests,
    dynamodb: total('DynamoDB.'),
    sqs: total('SQS.'),
    wru: (after.wru - before.wru - polls * (perPoll?.wru ?? 0)) / orders,
    rru: (after.rru - before.rru - polls * (perPoll?.rru ?? 0)) / orders,
    dollarsPerMillion: ((after.dollars - before.dollars - polls * (perPoll?.dollars ?? 0)) / orders) * 1e6,
    provisionedDollarsPerMillion:
      ((after.dollarsProvisioned - before.dollarsProvisioned - polls * (perPoll?.dollarsProvisioned ?? 0)) / orders) *
      1e6,
    reportedWru: Object.fromEntries(
      Object.entries(after.reportedWru)
        .map(([k, v]): [string, number] => [
          k,
          (v - (before.reportedWru[k] ?? 0) - polls * (perPoll?.reportedWru[k] ?? 0)) / orders,
        ])
        .filter(([, v]) => v > 0.0001),
    ),
  };
}

/** What one GET /orders/:id costs the service (the buyers' status polls are not the saga's cost). */
async function pollCost(service: ServiceProcess, orderId: string): Promise<Scrape> {
  const n = 20;
  const before = await scrape(service.metricsUrl);
  for (let i = 0; i < n; i++) await call(service.baseUrl, 'GET', `/orders/${orderId}`);
  const after = await scrape(service.metricsUrl);
  const requests: Record<string, number> = {};
  for (const [op, v] of Object.entries(after.requests)) requests[op] = (v - (before.requests[op] ?? 0)) / n;
  return {
    cpuSeconds: (after.cpuSeconds - before.cpuSeconds) / n,
    requests,
    wru: (after.wru - before.wru) / n,
    rru: (after.rru - before.rru) / n,
    dollars: (after.dollars - before.dollars) / n,
    dollarsProvisioned: (after.dollarsProvisioned - before.dollarsProvisioned) / n,
    reportedWru: Object.fromEntries(
      Object.entries(after.reportedWru).map(([k, v]) => [k, (v - (before.reportedWru[k] ?? 0)) / n]),
    ),
  };
}

// ------------------------------------------------------------------------------------------------
// Load
// ------------------------------------------------------------------------------------------------
async function call(
  baseUrl: string,
  method: string,
  pathName: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  // Real tokens: the organizer stocks the event, each order's customer places it, an operator reads.
  const customerId = (body as { customerId?: unknown } | undefined)?.customerId;
  const auth =
    method === 'PUT'
      ? await toolAuth().headers('organizer', 'bench')
      : typeof customerId === 'string'
        ? await toolAuth().headers('customer', customerId)
        : await toolAuth().headers('operator', 'bench');
  const res = await fetch(`${baseUrl}${pathName}`, {
    method,
    headers:
      body === undefined ? auth : { ...auth, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${pathName}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function seedEvent(baseUrl: string, quantity: number): Promise<string> {
  const eventId = `bench-${randomUUID()}`;
  await call(baseUrl, 'PUT', `/events/${eventId}/inventory`, {
    eventName: 'Bench',
    ticketTypes: [{ ticketType: 'GA', totalQuantity: quantity, price: 10, currency: 'EUR' }],
  });
  return eventId;
}

const FINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/**
 * `concurrency` buyers place `orders` orders in all and poll each (1/s) until it ends. Returns the
 * latencies (POST -> final updatedAt) of the orders that ended with `expect`; throws on others.
 */
async function load(
  baseUrl: string,
  orders: number,
  concurrency: number,
  pipeline: number,
  order: (n: number) => Record<string, unknown>,
  /** The final status every order must reach; undefined: any final status. */
  expect: string | undefined,
): Promise<{ latencies: number[]; polls: number; lastOrderId: string }> {
  const latencies: number[] = [];
  let polls = 0;
  let lastOrderId = '';
  let next = 0;
  const buyer = async () => {
    while (next < orders) {
      const n = next++;
      const postedAt = Date.now();
      const { orderId } = (await call(baseUrl, 'POST', '/orders', order(n))) as { orderId: string };
      for (;;) {
        await sleep(1000);
        const view = (await call(baseUrl, 'GET', `/orders/${orderId}`)) as { status: string; updatedAt: string };
        polls += 1;
        lastOrderId = orderId;
        if (!FINAL.has(view.status)) continue;
        if (expect !== undefined && view.status !== expect)
          throw new Error(`order ${orderId} ended ${view.status}, expected ${expect}`);
        latencies.push(Date.parse(view.updatedAt) - postedAt);
        break;
      }
    }
  };
  // A buyer with `pipeline` orders open at once is `pipeline` of these loops.
  await Promise.all(Array.from({ length: concurrency * pipeline }, buyer));
  return { latencies, polls, lastOrderId };
}

// ------------------------------------------------------------------------------------------------
// One run
// ------------------------------------------------------------------------------------------------
interface RunResult {
  engines: string;
  orders: number;
  sagasPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU ms per completed saga, by process. */
  cpuMsPerSaga: Record<string, number>;
  /** The buyers' status polls per completed order, and one poll's service CPU (ms, measured after the run). */
  pollsPerOrder: number;
  pollCpuMs: number;
  cost: Cost;
  maxQueueDepth: number;
}

async function withResources<T>(
  engines: Engines,
  fn: (prefix: string, observer: AwsClients) => Promise<T>,
): Promise<T> {
  const prefix = `b${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}-`;
  const config = loadConfig({
    AWS_ENDPOINT_URL: engines.sqsEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: engines.dynamodbEndpoint,
    RESOURCE_PREFIX: prefix,
  });
  const observer = createAwsClients(config); // the bench's own client: not in the service's counters
  try {
    await initResources(observer, prefix);
    return await fn(prefix, observer);
  } finally {
    destroyAwsClients(observer);
  }
}

async function oneRun(
  engines: Engines,
  orders: number,
  concurrency: number,
  pipeline: number,
  label: string,
): Promise<RunResult> {
  return withResources(engines, async (prefix, observer) => {
    const service = await startServiceProcess(engines, prefix, {}, label);
    const queues = await resolveQueueUrls(observer.sqs, resourceNames(prefix));
    try {
      const eventId = await seedEvent(service.baseUrl, orders);
      await sleep(500);
      const before = await scrape(service.metricsUrl);
      const enginesBefore = Object.fromEntries(Object.entries(engines.pgids).map(([k, pgid]) => [k, groupCpuMs(pgid)]));
      const loadBefore = process.cpuUsage();
      let maxQueueDepth = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const depths = await readQueueDepths(observer.sqs, queues).catch(() => undefined);
          for (const [key, d] of Object.entries(depths ?? {}))
            if (key !== 'dlq' && key !== 'timer') maxQueueDepth = Math.max(maxQueueDepth, d.visible + d.inFlight);
          await sleep(1000);
        }
      })();
      const started = Date.now();
      const { latencies, polls, lastOrderId } = await load(
        service.baseUrl,
        orders,
        concurrency,
        pipeline,
        (n) => ({
          customerId: `bench-${n}`,
          eventId,
          items: [{ ticketType: 'GA', quantity: 1 }],
          paymentToken: 'tok_success',
        }),
        'COMPLETED',
      );
      const seconds = (Date.now() - started) / 1000;
      const loadCpu = process.cpuUsage(loadBefore);
      const after = await scrape(service.metricsUrl);
      sampling = false;
      await sampler;
      const perPoll = await pollCost(service, lastOrderId);
      // The service's CPU per saga, without the buyers' status polls (measured per poll just now).
      const cpuMsPerSaga: Record<string, number> = {
        service: ((after.cpuSeconds - before.cpuSeconds - polls * perPoll.cpuSeconds) * 1000) / orders,
        // And with them: the subtraction above uses a poll's CPU measured on the idle service after
        // the run, so a slow run (more polls per order) moves the figure above by polls × any error
        // in that measure; this one does not depend on it.
        'service with the polls': ((after.cpuSeconds - before.cpuSeconds) * 1000) / orders,
      };
      for (const [k, pgid] of Object.entries(engines.pgids))
        cpuMsPerSaga[k] = (groupCpuMs(pgid) - enginesBefore[k]) / orders;
      cpuMsPerSaga.load = (loadCpu.user + loadCpu.system) / 1000 / orders;
      return {
        engines: engines.name,
        orders,
        sagasPerSecond: orders / seconds,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        cpuMsPerSaga,
        pollsPerOrder: polls / orders,
        pollCpuMs: perPoll.cpuSeconds * 1000,
        cost: costPerOrder(before, after, orders, polls, perPoll),
        maxQueueDepth,
      };
    } finally {
      await service.stop();
    }
  });
}

/** Requests, units and $ per order for each outcome, on a service with a 3-s hold. */
async function outcomes(engines: Engines, perOutcome: number): Promise<Record<string, Cost>> {
  return withResources(engines, async (prefix) => {
    const service = await startServiceProcess(
      engines,
      prefix,
      { HOLD_SECONDS: '3', PAYMENT_SLOW_MS: '6000', LOG_LEVEL: 'warn' },
      'outcomes',
    );
    try {
      const result: Record<string, Cost> = {};
      const plans: Array<
        [string, string | undefined, (eventId: string, n: number) => Record<string, unknown>, number]
      > = [
        [
          'completed',
          'COMPLETED',
          (eventId, n) => ({
            customerId: `o-${n}`,
            eventId,
            items: [{ ticketType: 'GA', quantity: 1 }],
            paymentToken: 'tok_success',
          }),
          perOutcome,
        ],
        [
          'declined',
          undefined,
          (eventId, n) => ({
            customerId: `o-${n}`,
            eventId,
            items: [{ ticketType: 'GA', quantity: 1 }],
            paymentToken: 'tok_declined',
          }),
          perOutcome,
        ],
        [
          'sold out',
          undefined,
          (eventId, n) => ({
            customerId: `o-${n}`,
            eventId,
            items: [{ ticketType: 'GA', quantity: 2 }],
            paymentToken: 'tok_success',
          }),
          1,
        ],
        [
          'expired',
          undefined,
          (eventId, n) => ({
            customerId: `o-${n}`,
            eventId,
            items: [{ ticketType: 'GA', quantity: 1 }],
            paymentToken: 'tok_slow',
          }),
          perOutcome,
        ],
      ];
      for (const [name, status, order, stock] of plans) {
        const eventId = await seedEvent(service.baseUrl, stock === 1 ? 1 : perOutcome);
        await sleep(300);
        const before = await scrape(service.metricsUrl);
        const { polls, lastOrderId } = await load(service.baseUrl, perOutcome, 10, 1, (n) => order(eventId, n), status);
        await sleep(2000); // the final notice after the last step
        const after = await scrape(service.metricsUrl);
        result[name] = costPerOrder(before, after, perOutcome, polls, await pollCost(service, lastOrderId));
        console.error(
          `outcome ${name}: ${result[name].dynamodb.toFixed(2)} DynamoDB + ${result[name].sqs.toFixed(2)} SQS requests, $${result[name].dollarsPerMillion.toFixed(2)}/M`,
        );
      }
      return result;
    } finally {
      await service.stop();
    }
  });
}

// ------------------------------------------------------------------------------------------------
// Main and report
// ------------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  // The flash sale of issue 15 has its own bench (scripts/bench-flash-sale.ts).
  if (process.argv.includes('--flash-sale')) return flashSaleBench();
  const orders = option('orders', 200);
  const concurrency = option('concurrency', 20);
  const pipeline = option('pipeline', 1);
  const runs = option('runs', 3);
  const compare = flag('compare');
  const started: StartedEngine[] = [];
  try {
    const moto = await startEmulator(await freePort());
    const motoEngine: StartedEngine = { endpoint: moto.endpoint, pid: 0, stop: () => moto.stop() };
    started.push(motoEngine);
    const motoPgid = pgidOf(moto.endpoint);
    const configs: Engines[] = [];
    const plan = await planDynamoDb(
      { engine: dynamoEngineFromEnv(), awsEndpoint: moto.endpoint, awsSource: 'emulator' },
      realDynamoProbes,
    );
    if (compare || plan.kind !== 'dynamodb-local') {
      configs.push({
        name: 'moto (DynamoDB + SQS)',
        sqsEndpoint: moto.endpoint,
        dynamodbEndpoint: moto.endpoint,
        pgids: { moto: motoPgid },
      });
    }
    if (plan.kind === 'dynamodb-local') {
      const dynamo = await startDynamoDbLocal(await freePort());
      started.push(dynamo);
      configs.push({
        name: 'DynamoDB Local + moto SQS',
        sqsEndpoint: moto.endpoint,
        dynamodbEndpoint: dynamo.endpoint,
        pgids: { moto: motoPgid, 'DynamoDB Local': dynamo.pid },
      });
    } else if (compare) {
      console.error(`--compare: no DynamoDB Local (${plan.kind === 'shared' ? plan.reason : plan.kind}); moto only`);
    }
    const results: RunResult[] = [];
    for (let i = 0; i < runs; i++) {
      for (const engines of configs) {
        const r = await oneRun(engines, orders, concurrency, pipeline, `run-${i + 1}-${engines.name.split(' ')[0]}`);
        console.error(
          `${engines.name} run ${i + 1}: ${r.sagasPerSecond.toFixed(1)} sagas/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ` +
            `CPU/saga ${Object.entries(r.cpuMsPerSaga)
              .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
              .join(', ')} (${r.pollsPerOrder.toFixed(1)} polls per order at ${r.pollCpuMs.toFixed(2)} ms), ` +
            `${r.cost.dynamodb.toFixed(2)} DynamoDB + ${r.cost.sqs.toFixed(2)} SQS requests, ${r.cost.wru.toFixed(1)} WRU, ${r.cost.rru.toFixed(1)} RRU, ` +
            `$${r.cost.dollarsPerMillion.toFixed(2)}/M on-demand, $${r.cost.provisionedDollarsPerMillion.toFixed(2)}/M provisioned at 70%, max queue depth ${r.maxQueueDepth}`,
        );
        results.push(r);
      }
    }
    // The runs' table first: an outcome phase that fails must not lose it.
    report(configs, results, undefined, { orders, concurrency, pipeline, runs, compare });
    if (!flag('no-outcomes'))
      report(configs, results, await outcomes(configs.at(-1)!, 20), { orders, concurrency, pipeline, runs, compare });
  } finally {
    await Promise.allSettled(started.map((e) => e.stop()));
  }
}

/** The process group of the emulator listening at `endpoint` (startEmulator starts it detached). */
function pgidOf(endpoint: string): number {
  const port = new URL(endpoint).port;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('emulator.py') && cmd.includes(`--port\0${port}`)) {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      }
    } catch {
      /* gone */
    }
  }
  return -1;
}

function report(
  configs: Engines[],
  results: RunResult[],
  byOutcome: Record<string, Cost> | undefined,
  p: { orders: number; concurrency: number; pipeline: number; runs: number; compare: boolean },
): void {
  const cols = configs.map((c) => results.filter((r) => r.engines === c.name));
  const med = (f: (r: RunResult) => number, digits = 1) =>
    cols.map((rs) => `${median(rs.map(f)).toFixed(digits)} (${rs.map((r) => f(r).toFixed(digits)).join(', ')})`);
  const row = (label: string, values: string[]) => `| ${label} | ${values.join(' | ')} |`;
  const cpuKeys = [...new Set(results.flatMap((r) => Object.keys(r.cpuMsPerSaga)))];
  const ops = [...new Set(results.flatMap((r) => Object.keys(r.cost.requests)))].sort();
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}`;
  const command = `npm run bench -- --orders ${p.orders} --concurrency ${p.concurrency}${p.pipeline > 1 ? ` --pipeline ${p.pipeline}` : ''} --runs ${p.runs}${p.compare ? ' --compare' : ''}`;
  const lines = [
    '<!-- bench:begin (written by `npm run bench`; edit outside the markers) -->',
    `Command: \`${command}\`. Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}.`,
    `Medians of ${p.runs} runs (each run in brackets); ${p.orders} orders per run, ${p.concurrency} buyers ${p.pipeline > 1 ? `with ${p.pipeline} orders open each, ` : ''}polling each order once a second.`,
    '',
    row(
      'figure',
      configs.map((c) => c.name),
    ),
    row(
      '---',
      configs.map(() => '---'),
    ),
    row(
      'completed sagas/s',
      med((r) => r.sagasPerSecond),
    ),
    row(
      'POST → COMPLETED p50 (ms)',
      med((r) => r.p50Ms, 0),
    ),
    row(
      'POST → COMPLETED p99 (ms)',
      med((r) => r.p99Ms, 0),
    ),
    ...cpuKeys.map((k) =>
      row(
        `CPU per saga: ${k} (ms)`,
        med((r) => r.cpuMsPerSaga[k] ?? 0).map((v, i) => (cols[i].some((r) => k in r.cpuMsPerSaga) ? v : '—')),
      ),
    ),
    row(
      'DynamoDB requests per order',
      med((r) => r.cost.dynamodb, 2),
    ),
    row(
      'SQS requests per order',
      med((r) => r.cost.sqs, 2),
    ),
    row(
      'WRU per order',
      med((r) => r.cost.wru, 1),
    ),
    row(
      'RRU per order',
      med((r) => r.cost.rru, 1),
    ),
    row(
      '**$ per million completed orders, on-demand**',
      med((r) => r.cost.dollarsPerMillion, 2),
    ),
    row(
      '**$ per million completed orders, provisioned at 70%**',
      med((r) => r.cost.provisionedDollarsPerMillion, 2),
    ),
    row(
      'largest queue backlog seen (messages)',
      med((r) => r.maxQueueDepth, 0),
    ),
    '',
    'Requests per completed order, by operation (medians):',
    '',
    row(
      'operation',
      configs.map((c) => c.name),
    ),
    row(
      '---',
      configs.map(() => '---'),
    ),
    ...ops.map((op) =>
      row(
        op,
        cols.map((rs) => median(rs.map((r) => r.cost.requests[op] ?? 0)).toFixed(2)),
      ),
    ),
  ];
  const targets = [...new Set(results.flatMap((r) => Object.keys(r.cost.reportedWru)))].sort();
  if (targets.length > 0)
    lines.push(
      '',
      'Write units per completed order by table and GSI, as the engine reported them (medians; moto reports no',
      'transaction, so its column misses the saga steps; DynamoDB Local reports each GSI a write touched):',
      '',
      row(
        'table / GSI',
        configs.map((c) => c.name),
      ),
      row(
        '---',
        configs.map(() => '---'),
      ),
      ...targets.map((t) =>
        row(
          t,
          cols.map((rs) => median(rs.map((r) => r.cost.reportedWru[t] ?? 0)).toFixed(1)),
        ),
      ),
    );
  if (byOutcome) {
    lines.push(
      '',
      `Per outcome (${configs.at(-1)!.name}; 20 orders each, 10 buyers, a 3-s hold; one run):`,
      '',
      '| outcome | DynamoDB requests | SQS requests | WRU | RRU | $ per million, on-demand | $ per million, provisioned at 70% |',
      '|---|---|---|---|---|---|---|',
      ...Object.entries(byOutcome).map(
        ([name, c]) =>
          `| ${name} | ${c.dynamodb.toFixed(2)} | ${c.sqs.toFixed(2)} | ${c.wru.toFixed(1)} | ${c.rru.toFixed(1)} | ${c.dollarsPerMillion.toFixed(2)} | ${c.provisionedDollarsPerMillion.toFixed(2)} |`,
      ),
    );
  }
  lines.push('<!-- bench:end -->');
  const block = lines.join('\n');
  console.log(block);
  const doc = readFileSync(DOC, 'utf8');
  const begin = doc.indexOf('<!-- bench:begin');
  const end = doc.indexOf('<!-- bench:end -->');
  if (begin >= 0 && end > begin) {
    writeFileSync(DOC, doc.slice(0, begin) + block + doc.slice(end + '<!-- bench:end -->'.length));
    console.error(`written to ${path.relative(process.cwd(), DOC)}`);
  } else {
    console.error(`no bench markers in ${path.relative(process.cwd(), DOC)}: paste the block above`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
