/**
 * `npm run bench [-- --orders 300 --concurrency 20 --runs 3]`: end-to-end throughput and the AWS
 * requests each completed saga costs, counted by SDK middleware (src/aws/clients.ts), not
 * estimated. Runs the whole service in-process on the local emulator (started if needed) with
 * fresh resources per run, and writes the medians to docs/benchmarks.md.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createAwsClients, destroyAwsClients } from '../src/aws/clients';
import { loadConfig } from '../src/config/config';
import { initResources } from '../src/infra/init';
import { resourceNames } from '../src/infra/resources';
import { SagaStore } from '../src/store/saga-store';
import { createLogger } from '../src/observability/logger';
import { startService } from '../src/service';
import { ensureLocalAws } from './local-aws';
import { flashSaleBench } from './bench-flash-sale';

interface RunResult {
  orders: number;
  seconds: number;
  sagasPerSecond: number;
  latencyP50Ms: number;
  latencyP90Ms: number;
  requestsPerSaga: Record<string, number>;
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function post(baseUrl: string, pathName: string, body: unknown, method = 'POST'): Promise<Record<string, unknown>> {
  const res = await fetch(`${baseUrl}${pathName}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${pathName}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function oneRun(endpoint: string, orders: number, concurrency: number): Promise<RunResult> {
  const prefix = `b${Date.now().toString(36)}-`;
  const env = { ...process.env, AWS_ENDPOINT_URL: endpoint, RESOURCE_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'error', RECEIVE_WAIT_SECONDS: '5', SWEEP_INTERVAL_MS: '600000' };
  const config = loadConfig(env);
  // A client of its own for set-up and polling, so the service's counters hold only its own requests.
  const observer = createAwsClients(config);
  await initResources(observer, prefix);
  const observed = new SagaStore(observer.doc, resourceNames(prefix).tables);
  const service = await startService(config, createLogger('error'), { sweeper: false });
  const baseUrl = `http://127.0.0.1:${(service.server!.address() as AddressInfo).port}`;
  try {
    const eventId = `bench-${randomUUID()}`;
    await post(baseUrl, `/events/${eventId}/inventory`, { eventName: 'Bench', ticketTypes: [{ ticketType: 'GA', totalQuantity: orders, price: 10, currency: 'EUR' }] }, 'PUT');
    const counts = service.core.clients.requestCounts;
    counts.clear();
    const placedAt = new Map<string, number>();
    const latencies: number[] = [];
    const started = Date.now();
    let next = 0;
    const open = new Set<string>();
    // Bounded in-flight orders keep the queues short, so this measures the saga, not a backlog.
    const placeOne = async (n: number) => {
      const body = { customerId: `bench-${n}`, eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_success' };
      const before = Date.now();
      const { orderId } = (await post(baseUrl, '/orders', body)) as { orderId: string };
      placedAt.set(orderId, before);
      open.add(orderId);
    };
    while (latencies.length < orders) {
      const room = Math.min(concurrency - open.size, orders - next);
      await Promise.all(Array.from({ length: room }, () => placeOne(++next)));
      await new Promise((r) => setTimeout(r, 100));
      await Promise.all(
        [...open].map(async (orderId) => {
          const saga = await observed.load(orderId);
          if (saga?.status === 'COMPLETED') {
            open.delete(orderId);
            latencies.push(Date.parse(saga.updatedAt) - placedAt.get(orderId)!);
          } else if (saga && ['CANCELLED', 'FAILED'].includes(saga.status)) throw new Error(`order ${orderId} ended ${saga.status}`);
        }),
      );
    }
    const seconds = (Date.now() - started) / 1000;
    const requestsPerSaga = Object.fromEntries([...counts.entries()].map(([op, n]) => [op, n / orders]));
    return { orders, seconds, sagasPerSecond: orders / seconds, latencyP50Ms: percentile(latencies, 0.5), latencyP90Ms: percentile(latencies, 0.9), requestsPerSaga };
  } finally {
    await service.stop();
    destroyAwsClients(observer);
  }
}

async function main(): Promise<void> {
  // The flash sale of issue 15 has its own bench (scripts/bench-flash-sale.ts).
  if (process.argv.includes('--flash-sale')) return flashSaleBench();
  const orders = option('orders', 300);
  const concurrency = option('concurrency', 20);
  const runs = option('runs', 3);
  const aws = await ensureLocalAws({ prefer: 'emulator', log: (m) => console.error(m) });
  const results: RunResult[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const r = await oneRun(aws.endpoint, orders, concurrency);
      console.error(`run ${i + 1}: ${r.sagasPerSecond.toFixed(1)} sagas/s, p50 ${r.latencyP50Ms} ms, p90 ${r.latencyP90Ms} ms`);
      results.push(r);
    }
  } finally {
    await aws.stop();
  }
  report(results, { orders, concurrency, runs });
}

function report(results: RunResult[], params: { orders: number; concurrency: number; runs: number }): void {
  const ops = [...new Set(results.flatMap((r) => Object.keys(r.requestsPerSaga)))].sort();
  const perOp = ops.map((op) => [op, median(results.map((r) => r.requestsPerSaga[op] ?? 0))] as const);
  const total = (prefix: string) => perOp.filter(([op]) => op.startsWith(prefix)).reduce((a, [, n]) => a + n, 0);
  const lines = [
    '# Benchmarks',
    '',
    `Command: \`npm run bench -- --orders ${params.orders} --concurrency ${params.concurrency} --runs ${params.runs}\` (the whole service in one`,
    'process on the local patched moto emulator, a 2-core shared machine; medians over the runs). Absolute',
    "figures measure moto's speed as much as ours; the request counts per saga are what carries over to AWS.",
    '',
    `Measured ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| figure | median | runs |',
    '|---|---|---|',
    `| completed sagas per second | ${median(results.map((r) => r.sagasPerSecond)).toFixed(1)} | ${results.map((r) => r.sagasPerSecond.toFixed(1)).join(', ')} |`,
    `| POST /orders → COMPLETED, p50 (ms) | ${median(results.map((r) => r.latencyP50Ms))} | ${results.map((r) => r.latencyP50Ms).join(', ')} |`,
    `| POST /orders → COMPLETED, p90 (ms) | ${median(results.map((r) => r.latencyP90Ms))} | ${results.map((r) => r.latencyP90Ms).join(', ')} |`,
    '',
    '## AWS requests per completed saga (counted)',
    '',
    '| operation | requests per saga |',
    '|---|---|',
    ...perOp.map(([op, n]) => `| ${op} | ${n.toFixed(2)} |`),
    `| **DynamoDB total** | **${total('DynamoDB.').toFixed(2)}** |`,
    `| **SQS total** | **${total('SQS.').toFixed(2)}** |`,
    '',
    "The benchmark's own set-up and polling use a separate client and are not counted.",
    'SQS.ReceiveMessage includes the empty long polls of idle consumers, so it falls as load rises.',
    'The inventory PUT that seeds the run happens before the counters are reset.',
    '',
    '## Reading these figures',
    '',
    '- Throughput here is bound by the emulator: moto is one Python process (one core under its GIL,',
    '  and serialised by the locks that keep it correct) and sits at 100% CPU during a run, while the',
    '  Node service uses about 20%. On AWS the same code is bound by worker count and SQS latency.',
    '- DynamoDB: a saga of four steps costs 7 transactions (the create, four steps, the reserve and the',
    '  confirm: each step is one 2-item transaction, the floor for "snapshot + history, atomically"),',
    '  one consistent GetItem per saga event, and the payment and notification records.',
    '- SQS: each hop is one send, one receive and one delete. With queues kept short most receives',
    '  carry one message; under a backlog a receive carries up to 10 and the per-message cost falls.',
    '- Step Functions Standard would charge $25 per million state transitions, ~$250 per million',
    '  orders for a saga of ~10 transitions. Here SQS costs ~22 requests per order (~$10 per million at',
    '  $0.40–0.50 per million requests); DynamoDB writes dominate and depend on item sizes.',
  ];
  const file = path.join(__dirname, '..', 'docs', 'benchmarks.md');
  writeFileSync(file, `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
