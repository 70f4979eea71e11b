/**
 * `npm run bench -- --flash-sale --buyers 10000 --seats 1000 --shards 1,8 [--hold 600]
 *  [--admission 200] [--concurrency 100] [--out docs/flash-sale-bench.md]`
 *
 * The flash sale of issue 15, once per shard count, side by side: the whole service in this
 * process on fresh resources of the local endpoint; one ticket type of `seats` seats over N
 * shards, a waiting room of `admission` places (0 = none); `buyers` buyers, `concurrency` at a
 * time, each POSTing one order for one seat with tok_success. Then it waits until every buyer is
 * told (an order COMPLETED or FAILED, a 409 sold-out, or SOLD_OUT from the waiting room) and every
 * saga is final, and reports: seats sold, oversold, time to sell out, POST p50/p99 before and after
 * sell-out, sagas started, AWS requests per buyer (counted by SDK middleware) and their cost at
 * on-demand list prices, how much of the hold a paying buyer used, and the inventory checker.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ScanCommand, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../src/aws/clients';
import { loadConfig } from '../src/config/config';
import { initResources } from '../src/infra/init';
import { resourceNames } from '../src/infra/resources';
import { createLogger } from '../src/observability/logger';
import { WaitingRoom } from '../src/admission/waiting-room';
import { closeRedis, createRedis } from '../src/cache/redis';
import { inventoryViolations } from '../tools/invariants';
import type { ShardRow } from '../src/participants/inventory-shards';
import type { InventoryRow, PaymentRecord, ReservationRecord } from '../src/participants/records';
import { startService } from '../src/service';
import { toolAuth } from './auth/tool-auth';
import { ensureLocalAws } from './local-aws';
import type { Role } from '../src/http/auth/principal';

/** In the output file, what follows this line is kept when the bench rewrites its table. */
const NOTES_MARKER = '<!-- notes: kept by the bench when it rewrites the table above -->';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};

interface Told {
  status: number;
  startedAt: number;
  ms: number;
  orderId?: string;
  kind: 'saga' | 'queued' | 'sold-out' | 'error';
}

interface RunResult {
  shards: number;
  sold: number;
  oversold: number;
  violations: number;
  sellOutSeconds: number;
  allToldSeconds: number;
  postBefore: { p50: number; p99: number; n: number };
  postAfter: { p50: number; p99: number; n: number };
  sagasStarted: number;
  outcomes: Record<string, number>;
  untold: number;
  /** Queued buyers told SOLD_OUT by the waiting room whose order has a saga too (each is also counted by its saga). */
  toldTwice: number;
  requestsPerBuyer: number;
  ddbPerBuyer: number;
  sqsPerBuyer: number;
  dollarsPerBuyer: number;
  dollarsPerMillionBuyers: number;
  holdUsedP50: number;
  holdUsedP99: number;
}

async function scanAll<T>(clients: AwsClients, input: ScanCommandInput): Promise<T[]> {
  const out: T[] = [];
  let ExclusiveStartKey: ScanCommandInput['ExclusiveStartKey'];
  do {
    const page = await clients.doc.send(new ScanCommand({ ...input, ConsistentRead: true, ExclusiveStartKey }));
    out.push(...((page.Items ?? []) as T[]));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

/**
 * The seats sold for an event: the items of its CONFIRMED reservations (the inventory keeps only
 * available and taken since the confirm stopped writing it, issue 25). A scan: a bench's observer only.
 */
async function soldSeats(clients: AwsClients, tables: { reservations: string }, eventId: string): Promise<number> {
  const confirmed = await scanAll<ReservationRecord>(clients, {
    TableName: tables.reservations,
    FilterExpression: '#e = :e AND #s = :confirmed',
    ExpressionAttributeNames: { '#e': 'eventId', '#s': 'status' },
    ExpressionAttributeValues: { ':e': eventId, ':confirmed': 'CONFIRMED' },
  });
  return confirmed.reduce((a, r) => a + r.items.reduce((b, i) => b + i.quantity, 0), 0);
}

async function pool<T>(items: T[], concurrency: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i], i);
      }
    }),
  );
}

async function oneRun(
  aws: { endpoint: string; dynamodbEndpoint: string },
  p: { buyers: number; seats: number; shards: number; hold: number; admission: number; concurrency: number },
): Promise<RunResult> {
  const prefix = `fs${Date.now().toString(36)}-`;
  const env = {
    ...process.env,
    ...toolAuth().env,
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodbEndpoint,
    RESOURCE_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'error',
    HOLD_SECONDS: String(p.hold),
    RECEIVE_WAIT_SECONDS: '5',
    SWEEP_INTERVAL_MS: '10000',
    STALLED_AFTER_MS: '60000',
  };
  const config = loadConfig(env);
  const observer = createAwsClients(config);
  await initResources(observer, prefix);
  const tables = resourceNames(prefix).tables;
  const service = await startService(config, createLogger('error'));
  // The bench's own view of the waiting room (the service's keys): who was told SOLD_OUT.
  const redis = createRedis(config.redisUrl, createLogger('error'));
  const room = new WaitingRoom(redis, createLogger('error'), { keyPrefix: config.resourcePrefix, defaultLimit: 0 });
  const baseUrl = `http://127.0.0.1:${(service.server!.address() as AddressInfo).port}`;
  // Real tokens, verified by the service: the organizer stocks the event, each buyer is a customer.
  const send = async (as: [Role, string], method: string, url: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${url}`, {
      method,
      headers: { 'content-type': 'application/json', ...(await toolAuth().headers(...as)) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  try {
    const eventId = `flash-${randomUUID()}`;
    const put = await send(['organizer', 'bench'], 'PUT', `/events/${eventId}/inventory`, {
      eventName: 'Flash sale',
      ticketTypes: [{ ticketType: 'GA', totalQuantity: p.seats, price: 25, currency: 'EUR', shards: p.shards }],
    });
    if (put.status !== 200) throw new Error(`PUT inventory: ${put.status} ${JSON.stringify(put.body)}`);
    if (p.admission > 0)
      await send(['organizer', 'bench'], 'PUT', `/events/${eventId}/admission`, { maxActiveOrders: p.admission });
    service.core.clients.meter.reset();

    const started = Date.now();
    let sellOutAt = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching && sellOutAt === 0) {
        const sold = await soldSeats(observer, tables, eventId).catch(() => 0);
        if (sold >= p.seats) sellOutAt = Date.now();
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();

    const told = new Array<Told>(p.buyers);
    await pool(
      Array.from({ length: p.buyers }, (_, i) => i),
      p.concurrency,
      async (i) => {
        const t0 = Date.now();
        try {
          const r = await send(['customer', `buyer-${i}`], 'POST', '/orders', {
            customerId: `buyer-${i}`,
            eventId,
            items: [{ ticketType: 'GA', quantity: 1 }],
            paymentToken: 'tok_success',
          });
          const kind =
            r.status === 409
              ? 'sold-out'
              : r.status === 202
                ? r.body.status === 'QUEUED'
                  ? 'queued'
                  : 'saga'
                : 'error';
          told[i] = {
            status: r.status,
            startedAt: t0,
            ms: Date.now() - t0,
            orderId: r.body.orderId as string | undefined,
            kind,
          };
        } catch {
          told[i] = { status: 0, startedAt: t0, ms: Date.now() - t0, kind: 'error' };
        }
      },
    );
    const postsDone = Date.now();
    console.error(
      `  shards ${p.shards}: ${p.buyers} POSTs in ${((postsDone - started) / 1000).toFixed(1)} s; waiting for every buyer to be told`,
    );

    // Every buyer told: sagas final, queued buyers admitted (then final) or told SOLD_OUT. A buyer's
    // end is final once seen (a final saga, a 409, SOLD_OUT), so each round (1 s) looks only at the
    // buyers not yet told: one Scan of the orders, and for queued buyers without a saga the waiting
    // room's answers (the keys GET /orders/:id/queue answers from, one MGET per 500). Until
    // 2026-12-06 a round came every 5 s and asked GET /orders/:id/queue of every queued buyer once all
    // sagas were final, all inside the timed span (~2.7 ms per buyer at concurrency 50: ~25 s for
    // 9,000 buyers). Those HTTP answers are still all checked, after the clock stops (below).
    const SOLD_OUT_QUEUED = 'queued, told SOLD_OUT';
    const ended = told.map((t): string | undefined =>
      t.kind === 'sold-out' ? '409 sold-out' : t.kind === 'error' || !t.orderId ? `error ${t.status}` : undefined,
    );
    let untold = p.buyers;
    let sagasStarted = 0;
    const deadline = Date.now() + 30 * 60_000;
    type OrderRow = { orderId: string; status: string; saga?: { context?: { outcome?: string } } };
    const scanOrders = () =>
      scanAll<OrderRow>(observer, {
        TableName: tables.orders,
        ProjectionExpression: 'orderId, #s, saga.context.outcome',
        ExpressionAttributeNames: { '#s': 'status' },
      });
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      // A slow emulator may time a scan out: try again on the next round.
      const orders = await scanOrders().catch(() => null);
      if (!orders) continue;
      const byId = new Map(orders.map((o) => [o.orderId, o]));
      sagasStarted = orders.length;
      const unplaced: number[] = [];
      for (const [i, t] of told.entries()) {
        if (ended[i] !== undefined) continue;
        const o = byId.get(t.orderId!);
        if (o && ['COMPLETED', 'CANCELLED', 'FAILED'].includes(o.status))
          ended[i] = `${o.status} (${o.saga?.context?.outcome ?? '?'})`;
        else if (!o && t.kind === 'queued') unplaced.push(i);
      }
      const answers = await room.endedWithoutSaga(unplaced.map((i) => told[i].orderId!)).catch(() => null);
      unplaced.forEach((i, k) => {
        if (answers?.[k] === 'sold-out') ended[i] = SOLD_OUT_QUEUED;
      });
      untold = ended.filter((e) => e === undefined).length;
      if (untold === 0) break;
    }
    const allTold = Date.now();
    // Untimed: every SOLD_OUT as a buyer asks for it (GET /orders/:id/queue; an answer lost to a
    // Redis timeout under load is asked again, up to 5 rounds).
    let unconfirmed = told.flatMap((t, i) => (ended[i] === SOLD_OUT_QUEUED ? [t.orderId!] : []));
    for (let attempt = 0; attempt < 5 && unconfirmed.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 1000));
      const again: string[] = [];
      await pool(unconfirmed, 50, async (id) => {
        const r = await send(['operator', 'bench'], 'GET', `/orders/${id}/queue`).catch(() => null);
        if (r?.body.status !== 'SOLD_OUT') again.push(id);
      });
      unconfirmed = again;
    }
    untold += unconfirmed.length;
    // Told twice: a queued buyer the waiting room told SOLD_OUT whose order has a saga too.
    const queuedIds = told.flatMap((t) => (t.kind === 'queued' ? [t.orderId!] : []));
    const roomAnswers = await room.endedWithoutSaga(queuedIds);
    const withSaga = new Set((await scanOrders()).map((o) => o.orderId));
    const toldTwice = queuedIds.filter((id, k) => roomAnswers[k] === 'sold-out' && withSaga.has(id)).length;
    const outcomes: Record<string, number> = {};
    for (const e of ended) if (e !== undefined) outcomes[e] = (outcomes[e] ?? 0) + 1;
    watching = false;
    await watcher;
    // Measured by the cost meter (src/observability/cost-meter.ts): units from ConsumedCapacity or AWS's
    // item-size rules, priced at its PRICES.
    const metered = service.core.clients.meter.snapshot();
    const counts = new Map(Object.entries(metered.requests));
    console.error(
      `  shards ${p.shards}: requests per buyer by operation: ${[...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k} ${(n / p.buyers).toFixed(3)}`)
        .join(', ')}`,
    );

    const inventory = (await scanAll<InventoryRow | ShardRow>(observer, { TableName: tables.inventory })).filter((r) =>
      'shardOf' in r ? r.shardOf === eventId : r.eventId === eventId,
    );
    const reservations = await scanAll<ReservationRecord>(observer, { TableName: tables.reservations });
    const payments = await scanAll<PaymentRecord>(observer, { TableName: tables.payments });
    const sold = reservations
      .filter((r) => r.eventId === eventId && r.status === 'CONFIRMED')
      .reduce((a, r) => a + r.items.reduce((b, i) => b + i.quantity, 0), 0);
    const reservationAt = new Map(reservations.map((r) => [r.orderId, Date.parse(r.createdAt)]));
    const holdUsed = payments
      .filter((x) => x.status === 'CAPTURED' && x.capturedAt)
      .map((x) => (Date.parse(x.capturedAt!) - (reservationAt.get(x.orderId) ?? NaN)) / 1000)
      .filter((s) => Number.isFinite(s));
    const cut = sellOutAt || allTold;
    const before = told.filter((t) => t.startedAt < cut).map((t) => t.ms);
    const after = told.filter((t) => t.startedAt >= cut).map((t) => t.ms);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const sum = (prefix: string) => [...counts].filter(([k]) => k.startsWith(prefix)).reduce((a, [, n]) => a + n, 0);
    return {
      shards: p.shards,
      sold,
      oversold: Math.max(0, sold - p.seats),
      violations: inventoryViolations(
        inventory,
        reservations.filter((r) => r.eventId === eventId),
      ).length,
      sellOutSeconds: sellOutAt ? (sellOutAt - started) / 1000 : NaN,
      allToldSeconds: (allTold - started) / 1000,
      postBefore: { p50: pct(before, 0.5), p99: pct(before, 0.99), n: before.length },
      postAfter: { p50: pct(after, 0.5), p99: pct(after, 0.99), n: after.length },
      sagasStarted,
      outcomes,
      untold,
      toldTwice,
      requestsPerBuyer: total / p.buyers,
      ddbPerBuyer: sum('DynamoDB.') / p.buyers,
      sqsPerBuyer: sum('SQS.') / p.buyers,
      dollarsPerBuyer: metered.dollars / p.buyers,
      dollarsPerMillionBuyers: (metered.dollars / p.buyers) * 1e6,
      holdUsedP50: pct(holdUsed, 0.5),
      holdUsedP99: pct(holdUsed, 0.99),
    };
  } finally {
    await service.stop();
    await closeRedis(redis);
    destroyAwsClients(observer);
  }
}

export async function flashSaleBench(): Promise<void> {
  const buyers = Number(option('buyers', '10000'));
  const seats = Number(option('seats', '1000'));
  const shardsList = option('shards', '1,8').split(',').map(Number);
  const hold = Number(option('hold', '600'));
  const admission = Number(option('admission', '200'));
  const concurrency = Number(option('concurrency', '100'));
  const out = option('out', path.join('docs', 'flash-sale-bench.md'));
  const aws = await ensureLocalAws({ prefer: 'emulator', log: (m) => console.error(m) });
  const results: RunResult[] = [];
  try {
    for (const shards of shardsList) {
      const r = await oneRun(aws, { buyers, seats, shards, hold, admission, concurrency });
      console.error(
        `  shards ${shards}: sold ${r.sold}, sold out in ${r.sellOutSeconds.toFixed(1)} s, all told in ${r.allToldSeconds.toFixed(1)} s`,
      );
      results.push(r);
    }
  } finally {
    await aws.stop();
  }
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–');
  const row = (label: string, get: (r: RunResult) => string) => `| ${label} | ${results.map(get).join(' | ')} |`;
  const command = `npm run bench -- --flash-sale --buyers ${buyers} --seats ${seats} --shards ${shardsList.join(',')} --hold ${hold} --admission ${admission} --concurrency ${concurrency}`;
  const lines = [
    `# Flash sale bench`,
    '',
    `Command: \`${command}\` on ${aws.endpoint} (${aws.source}), ${new Date().toISOString()}.`,
    '',
    `| figure | ${results.map((r) => `${r.shards} shard(s)`).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    row('seats sold (of ' + seats + ')', (r) => String(r.sold)),
    row('oversold', (r) => String(r.oversold)),
    row('inventory checker violations', (r) => String(r.violations)),
    row('buyers not told', (r) => String(r.untold)),
    row('buyers told twice (SOLD_OUT and a saga)', (r) => String(r.toldTwice)),
    row('time to sell out (s)', (r) => f(r.sellOutSeconds, 1)),
    row('every buyer told, every saga final (s)', (r) => f(r.allToldSeconds, 1)),
    row(
      'POST p50 / p99 before sell-out (ms)',
      (r) => `${f(r.postBefore.p50)} / ${f(r.postBefore.p99)} (${r.postBefore.n})`,
    ),
    row(
      'POST p50 / p99 after sell-out (ms)',
      (r) => `${f(r.postAfter.p50)} / ${f(r.postAfter.p99)} (${r.postAfter.n})`,
    ),
    row('sagas started', (r) => String(r.sagasStarted)),
    row('outcomes', (r) =>
      Object.entries(r.outcomes)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; '),
    ),
    row(
      'AWS requests per buyer (DynamoDB + SQS)',
      (r) => `${f(r.requestsPerBuyer, 2)} (${f(r.ddbPerBuyer, 2)} + ${f(r.sqsPerBuyer, 2)})`,
    ),
    row(
      '$ per buyer / per million buyers (cost meter, on-demand prices)',
      (r) => `${r.dollarsPerBuyer.toExponential(2)} / $${f(r.dollarsPerMillionBuyers, 2)}`,
    ),
    row(
      `hold used by a paying buyer, p50 / p99 (s, hold ${hold} s)`,
      (r) => `${f(r.holdUsedP50, 1)} / ${f(r.holdUsedP99, 1)}`,
    ),
    '',
  ];
  // The table is rewritten; notes written by hand below NOTES_MARKER are kept.
  const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const notes = previous.includes(NOTES_MARKER) ? `\n${previous.slice(previous.indexOf(NOTES_MARKER))}` : '';
  writeFileSync(out, `${lines.join('\n')}\n${notes}`);
  console.log(lines.join('\n'));
}
