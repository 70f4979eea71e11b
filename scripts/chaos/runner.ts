/**
 * A chaos run, as a library function: `runChaos(options)` starts everything it needs (emulator,
 * Redis, the API process, N worker processes), places the orders while killing workers, crashing
 * Redis and pausing the emulator, waits for every saga to end, checks the invariants and stops
 * everything it started. scripts/chaos.ts is its command line; test/chaos/ runs a short one.
 */
import { toolAuth } from '../auth/tool-auth';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../src/aws/clients';
import { initResources } from '../../src/infra/init';
import { resourceNames, type QueueKey, type ResourceNames } from '../../src/infra/resources';
import { resolveQueueUrls, type QueueUrls } from '../../src/messaging/queues';
import { checkInvariants, type InvariantReport, type Violation } from '../../tools/invariants';
import { FaultSchedule, type FaultStats } from './faults';
import { freePort, ROOT, sleep, startOwnEngines, startOwnRedis, type OwnEngines, type OwnRedis } from './infra';
import { catalogue, LoadDriver, planOrder, type OrderOutcome, type Scenario } from './load';
import { describeKillRate, type ChaosOptions } from './options';
import { createPrng } from './prng';
import { NodeService, serviceEnvironment, WorkerPool, type PoolStats } from './services';

export interface ClientViolation {
  kind: 'order-lost' | 'cancel-not-honoured' | 'declined-completed' | 'replay-mismatch' | 'not-placed';
  orderId: string | null;
  detail: string;
}

export interface ChaosSummary {
  ok: boolean;
  runId: string;
  command: string;
  options: Omit<ChaosOptions, 'killRate'> & { killRate: string };
  endpoint: string;
  prefix: string;
  dir: string;
  startedAt: string;
  timings: { wallMs: number; setupMs: number; loadMs: number; drainMs: number; checkMs: number };
  throughput: {
    /** Orders accepted / (first order placed → every saga ended). */
    ordersPerSecond: number;
    /** Orders accepted / load phase. */
    placedPerSecond: number;
  };
  orders: {
    planned: Record<Scenario, number>;
    replays: number;
    accepted: number;
    notPlaced: number;
    /** Answered 409 sold-out at POST (no saga started): told, not lost. */
    soldOutAtPost: number;
    placeRetries: number;
    cancelsSent: number;
    cancelAccepted: number;
    cancelRefused: number;
    byStatus: Record<string, number>;
    byOutcome: Record<string, number>;
    /** Intended scenario → how the order ended (status/outcome). */
    byScenario: Record<string, Record<string, number>>;
    /** Orders for free tickets (total 0) → how they ended (status/outcome). */
    free: Record<string, number>;
  };
  faults: Omit<PoolStats, 'unexpectedExits'> &
    Omit<FaultStats, 'timeline'> & {
      killRate: string;
      unexpectedExits: PoolStats['unexpectedExits'];
      messagesSent: number;
      duplicatesInjected: number;
      dlqMessages: number;
      dlqReasons: Record<string, number>;
      queueBacklogAtEnd: Record<string, number>;
      timeline: FaultStats['timeline'];
    };
  invariants: {
    ok: boolean;
    violationCount: number;
    byKind: Record<string, number>;
    violations: Violation[];
    open: number;
    stuck: number;
    doubleCharges: number;
    counts: InvariantReport['counts'];
    money: InvariantReport['money'];
  };
  client: { violations: ClientViolation[] };
}

export interface RunIo {
  log?: (line: string) => void;
  /** Abort: stop placing, skip the drain, clean up, and return what was seen. */
  signal?: AbortSignal;
  /** The command line that produced the run, for the summary. */
  command?: string;
}

const QUEUE_KEYS: QueueKey[] = ['inventory', 'payment', 'notification', 'timer', 'saga', 'dlq', 'dlqFifo'];

function count(into: Record<string, number>, key: string, by = 1): void {
  into[key] = (into[key] ?? 0) + by;
}

async function waitForHttp(url: string, api: NodeService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!api.running) throw new Error(`the API process exited:\n${api.tail()}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`the API did not answer on ${url} within ${timeoutMs} ms:\n${api.tail()}`);
}

async function seedCatalogue(baseUrl: string, events: ReturnType<typeof catalogue>): Promise<void> {
  for (const event of events) {
    const res = await fetch(`${baseUrl}/events/${event.eventId}/inventory`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(await toolAuth().headers('organizer', 'chaos')) },
      body: JSON.stringify({ eventName: `Chaos ${event.eventId}`, ticketTypes: event.ticketTypes }),
    });
    if (res.status !== 200) throw new Error(`seeding ${event.eventId}: HTTP ${res.status} ${await res.text()}`);
  }
}

function readSendCounts(dir: string): { sent: number; duplicates: number } {
  let sent = 0;
  let duplicates = 0;
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return { sent, duplicates };
  }
  for (const file of files) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const [, originals, copies] = line.trim().split(' ');
      if (originals === undefined || copies === undefined) continue;
      sent += Number(originals) + Number(copies);
      duplicates += Number(copies);
    }
  }
  return { sent, duplicates };
}

async function queueBacklog(clients: AwsClients, urls: QueueUrls): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const key of QUEUE_KEYS) {
    const { Attributes = {} } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: urls[key],
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    out[key] =
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
  }
  return out;
}

/** The reasons of what sits in the DLQs (read once each, left in place). */
/** What a dead letter carried: its command's kind, its event's type, or its envelope type. */
function carried(body: string | undefined): string {
  try {
    const b = JSON.parse(body ?? '') as { type?: string; command?: { kind?: string }; event?: { type?: string } };
    return [b.type, b.command?.kind ?? b.event?.type].filter(Boolean).join(' ') || 'unparsable body';
  } catch {
    return 'unparsable body';
  }
}

async function dlqReasons(clients: AwsClients, urls: QueueUrls, max = 200): Promise<Record<string, number>> {
  const reasons: Record<string, number> = {};
  for (const url of [urls.dlq, urls.dlqFifo]) {
    let read = 0;
    for (let i = 0; i < 30 && read < max; i++) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 300,
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      read += Messages.length;
      for (const m of Messages) {
        // No reason attribute: SQS's own redrive moved it (maxReceiveCount), not the consumer.
        // Name what it carried, so the kind of message is known.
        const reason = m.MessageAttributes?.reason?.StringValue ?? `SQS redrive (maxReceiveCount): ${carried(m.Body)}`;
        // Group by the reason's shape, not by the ids in it.
        count(reasons, reason.replace(/[0-9a-f]{8}-[0-9a-f-]{27,}/gi, '<id>').slice(0, 160));
      }
    }
  }
  return reasons;
}

interface FinalOrder {
  status: string;
  outcome: string | null;
  createdAt: string;
  updatedAt: string;
  /** The order's total in minor units (0: free tickets, nothing to charge); null until priced. */
  totalAmountMinor: number | null;
}

async function finalOrders(clients: AwsClients, table: string): Promise<Map<string, FinalOrder>> {
  const out = new Map<string, FinalOrder>();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await clients.doc.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: 'orderId, #s, saga.#c.outcome, createdAt, updatedAt, totalAmountMinor',
        ExpressionAttributeNames: { '#s': 'status', '#c': 'context' },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const saga = item.saga as { context?: { outcome?: string | null } } | undefined;
      out.set(String(item.orderId), {
        status: String(item.status),
        outcome: saga?.context?.outcome ?? null,
        createdAt: String(item.createdAt),
        updatedAt: String(item.updatedAt),
        totalAmountMinor: typeof item.totalAmountMinor === 'number' ? item.totalAmountMinor : null,
      });
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

/** What a customer was promised, checked against how each order ended. */
function clientViolations(outcomes: OrderOutcome[], finals: Map<string, FinalOrder>): ClientViolation[] {
  const found: ClientViolation[] = [];
  for (const o of outcomes) {
    if (!o.orderId) {
      if (o.soldOutAtPost) continue; // told at POST: sold out, no saga
      found.push({
        kind: 'not-placed',
        orderId: null,
        detail: `order ${o.plan.index}: ${o.placeError ?? 'no answer'}`,
      });
      continue;
    }
    const final = finals.get(o.orderId);
    if (!final) {
      found.push({ kind: 'order-lost', orderId: o.orderId, detail: 'accepted (202) but no order item exists' });
      continue;
    }
    const ended = final.status === 'COMPLETED' || final.status === 'CANCELLED' || final.status === 'FAILED';
    if (o.cancelStatus === 202 && ended && final.status !== 'CANCELLED') {
      found.push({
        kind: 'cancel-not-honoured',
        orderId: o.orderId,
        detail: `cancel accepted (202), order ended ${final.status}/${String(final.outcome)}`,
      });
    }
    // A free order never reaches the card: it completes whatever the token.
    if (o.plan.paymentToken === 'tok_declined' && final.status === 'COMPLETED' && final.totalAmountMinor !== 0) {
      found.push({
        kind: 'declined-completed',
        orderId: o.orderId,
        detail: 'a declined card, yet the order completed',
      });
    }
    if (o.plan.replay && o.replayMatched === false) {
      found.push({
        kind: 'replay-mismatch',
        orderId: o.orderId,
        detail: 'a POST replayed with the same Idempotency-Key did not return the same order as replayed',
      });
    }
  }
  return found;
}

/** The histories of the sagas that took longest, for whoever investigates a slow drain. */
async function writeSlowest(
  clients: AwsClients,
  names: ResourceNames,
  finals: Map<string, FinalOrder>,
  file: string,
  top = 8,
): Promise<void> {
  const slowest = [...finals]
    .map(([orderId, f]) => ({ orderId, ms: Date.parse(f.updatedAt) - Date.parse(f.createdAt) }))
    .filter((o) => Number.isFinite(o.ms))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
  const out: Array<{ orderId: string; ms: number; history: Array<Record<string, unknown>> }> = [];
  for (const { orderId, ms } of slowest) {
    const page = await clients.doc.send(
      new QueryCommand({
        TableName: names.tables.events,
        KeyConditionExpression: '#a = :id',
        ExpressionAttributeNames: {
          '#a': 'aggregateId',
          '#v': 'version',
          '#t': 'eventType',
          '#ts': 'timestamp',
          '#to': 'toState',
        },
        ExpressionAttributeValues: { ':id': orderId },
        ProjectionExpression: '#v, #t, #ts, #to',
      }),
    );
    out.push({ orderId, ms, history: (page.Items ?? []) as Array<Record<string, unknown>> });
  }
  writeFileSync(file, JSON.stringify(out, null, 2));
}

export async function deleteResources(
  clients: AwsClients,
  names: ResourceNames,
  urls: QueueUrls | undefined,
): Promise<void> {
  await Promise.allSettled([
    ...Object.values(names.tables).map((TableName) => clients.ddb.send(new DeleteTableCommand({ TableName }))),
    ...Object.values(urls ?? {}).map((QueueUrl) => clients.sqs.send(new DeleteQueueCommand({ QueueUrl }))),
  ]);
}

export async function runChaos(options: ChaosOptions, io: RunIo = {}): Promise<ChaosSummary> {
  const t0 = Date.now();
  const runId = `chaos-${options.seed}-${t0.toString(36)}`;
  const dir = path.resolve(options.outDir ?? path.join(ROOT, '.emulator', 'chaos', runId));
  const sendsDir = path.join(dir, 'sends');
  mkdirSync(sendsDir, { recursive: true });
  const lines: string[] = [];
  const log = (line: string) => {
    const stamped = `[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`;
    lines.push(stamped);
    io.log?.(stamped);
  };
  const prng = createPrng(options.seed);
  const signal = io.signal;

  let emulator: OwnEngines | undefined;
  let redis: OwnRedis | undefined;
  let api: NodeService | undefined;
  let pool: WorkerPool | undefined;
  let clients: AwsClients | undefined;
  let urls: QueueUrls | undefined;
  // A crash of this process must not leave the emulator stopped or workers running.
  const lastResort = () => {
    pool?.killNow();
    if (api?.running) api.child.kill('SIGKILL');
    redis?.killNow();
    emulator?.killNow();
  };
  process.once('exit', lastResort);

  const prefix = `c${t0.toString(36)}${prng.fork('prefix').int(0, 1295).toString(36)}-`;
  const names = resourceNames(prefix);
  try {
    // ---- set up -------------------------------------------------------------------------------
    if (options.endpoint) log(`using the AWS endpoint ${options.endpoint} (no emulator pauses)`);
    else {
      emulator = await startOwnEngines(dir);
      log(
        `emulator pid ${emulator.pid} on ${emulator.endpoint}; DynamoDB (${emulator.dynamodbEngine}) on ${emulator.dynamodbEndpoint}`,
      );
    }
    const endpoint = options.endpoint ?? emulator!.endpoint;
    // With --endpoint, DynamoDB may still have its own (AWS_ENDPOINT_URL_DYNAMODB), as for the service.
    const dynamodbEndpoint = options.endpoint
      ? process.env.AWS_ENDPOINT_URL_DYNAMODB || endpoint
      : emulator!.dynamodbEndpoint;
    redis = await startOwnRedis(path.join(dir, 'redis.log'));
    log(`redis on ${redis.url}`);
    clients = createAwsClients({ awsEndpoint: endpoint, dynamodbEndpoint, awsRegion: 'us-east-1' });
    await initResources(clients, prefix);
    urls = await resolveQueueUrls(clients.sqs, names);
    log(`resources under prefix ${prefix}`);

    const base = { endpoint, dynamodbEndpoint, prefix, redisUrl: redis.url, dir };
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    api = new NodeService(
      'api',
      serviceEnvironment(base, options, {
        SERVICE_MODE: 'api',
        PORT: String(port),
        CHAOS_SENDS_FILE: path.join(sendsDir, 'api'),
      }),
      path.join(dir, 'api.log'),
    );
    // Appends of one short line are atomic (O_APPEND): every worker can count into one file.
    const workerEnv = serviceEnvironment(base, options, {
      SERVICE_MODE: 'worker',
      CHAOS_SENDS_FILE: path.join(sendsDir, 'workers'),
    });
    pool = new WorkerPool(options.workers, workerEnv, dir, prng.fork('workers'), options, log);
    pool.start();
    await waitForHttp(`${baseUrl}/actuator/health`, api, 60000);
    const events = catalogue(runId, options.orders, options.shards);
    await seedCatalogue(baseUrl, events);
    log(`API on ${baseUrl}; ${options.workers} workers; ${events.length} events seeded`);
    const setupMs = Date.now() - t0;

    // ---- load, with faults --------------------------------------------------------------------
    const driver = new LoadDriver(baseUrl, clients.doc, names.tables.orders, options.maxInFlight, log);
    const faults = new FaultSchedule(options, prng.fork('faults'), pool, redis, emulator, log);
    const orderPrng = prng.fork('orders');
    const planned: Record<Scenario, number> = { success: 0, declined: 0, cancel: 0, late: 0 };
    driver.startPolling();
    faults.start();
    const loadStart = Date.now();
    let lastReport = loadStart;
    for (let i = 0; i < options.orders && !signal?.aborted; i++) {
      const plan = planOrder(i, runId, events, options, orderPrng);
      planned[plan.scenario]++;
      await driver.submit(plan, signal);
      faults.onOrder(i + 1);
      if (Date.now() - lastReport > 10000) {
        lastReport = Date.now();
        log(
          `placed ${i + 1}/${options.orders}; ${driver.inFlight} in flight; ${pool.live}/${options.workers} workers up; kills ${pool.stats.kills}`,
        );
      }
    }
    await faults.stop();
    await driver.settled();
    const loadMs = Date.now() - loadStart;
    log(`load placed in ${(loadMs / 1000).toFixed(1)} s; waiting for every saga to end`);

    // ---- drain -------------------------------------------------------------------------------
    const drainStart = Date.now();
    const drained = await driver.drained(options.drainTimeoutMs, signal);
    const drainMs = Date.now() - drainStart;
    await driver.stopPolling();
    const quiescedAt = Date.now();
    log(
      drained
        ? `every saga ended ${(drainMs / 1000).toFixed(1)} s after the load`
        : `drain timed out with ${driver.openOrderIds().length} open`,
    );
    // Late duplicates and timers may still arrive: let them land before judging.
    await sleep(3000);

    // ---- check -------------------------------------------------------------------------------
    const checkStart = Date.now();
    const report = await checkInvariants(
      { doc: clients.doc, tables: names.tables },
      { stuckAfterMs: options.stuckAfterMs },
    );
    const finals = await finalOrders(clients, names.tables.orders);
    const client = clientViolations(driver.outcomes, finals);
    // Diagnostics: never let them fail the run.
    const diagnose = async <T>(what: string, fallback: T, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (error) {
        log(`${what} failed: ${String(error)}`);
        return fallback;
      }
    };
    await diagnose('slowest sagas', undefined, () =>
      writeSlowest(clients!, names, finals, path.join(dir, 'slowest-sagas.json')),
    );
    const backlog = await diagnose<Record<string, number>>('queue backlog', { dlq: -1, dlqFifo: -1 }, () =>
      queueBacklog(clients!, urls!),
    );
    const reasons = await diagnose<Record<string, number>>('DLQ reasons', {}, () => dlqReasons(clients!, urls!));
    const checkMs = Date.now() - checkStart;

    // ---- stop (graceful) -----------------------------------------------------------------------
    await pool.stop();
    const apiExit = await api.stop();
    if (apiExit.code !== 0) log(`the API exited with ${apiExit.signal ?? apiExit.code} on SIGTERM`);
    const sends = readSendCounts(sendsDir);

    const byStatus: Record<string, number> = {};
    const byOutcome: Record<string, number> = {};
    const byScenario: Record<string, Record<string, number>> = {};
    const free: Record<string, number> = {};
    for (const o of driver.outcomes) {
      const final = o.orderId ? finals.get(o.orderId) : undefined;
      const end = final ? `${final.status}/${final.outcome ?? '-'}` : 'not placed';
      if (final?.totalAmountMinor === 0) count(free, end);
      count(byStatus, final?.status ?? 'not placed');
      count(byOutcome, final?.outcome ?? (final ? 'open' : 'not placed'));
      count((byScenario[o.plan.scenario] ??= {}), end);
    }
    const byKind: Record<string, number> = {};
    for (const v of report.violations) count(byKind, v.kind);
    const stuck = report.open.length;
    const accepted = driver.stats.placed;
    const { unexpectedExits, ...poolStats } = pool.stats;
    const { timeline, ...faultStats } = faults.stats;
    const summary: ChaosSummary = {
      ok: report.ok && stuck === 0 && client.length === 0 && unexpectedExits.length === 0,
      runId,
      command: io.command ?? '',
      options: { ...options, killRate: describeKillRate(options.killRate) },
      endpoint,
      prefix,
      dir,
      startedAt: new Date(t0).toISOString(),
      timings: { wallMs: Date.now() - t0, setupMs, loadMs, drainMs, checkMs },
      throughput: {
        ordersPerSecond: round(accepted / ((quiescedAt - loadStart) / 1000)),
        placedPerSecond: round(accepted / (loadMs / 1000)),
      },
      orders: {
        planned,
        replays: driver.stats.replays,
        accepted,
        notPlaced: driver.stats.placeFailures,
        soldOutAtPost: driver.outcomes.filter((o) => o.soldOutAtPost).length,
        placeRetries: driver.stats.placeRetries,
        cancelsSent: driver.stats.cancelsSent,
        cancelAccepted: driver.stats.cancelAccepted,
        cancelRefused: driver.stats.cancelRefused,
        byStatus,
        byOutcome,
        byScenario,
        free,
      },
      faults: {
        killRate: describeKillRate(options.killRate),
        ...poolStats,
        ...faultStats,
        unexpectedExits,
        messagesSent: sends.sent,
        duplicatesInjected: sends.duplicates,
        dlqMessages: backlog.dlq + backlog.dlqFifo,
        dlqReasons: reasons,
        queueBacklogAtEnd: backlog,
        timeline,
      },
      invariants: {
        ok: report.ok,
        violationCount: report.violations.length,
        byKind,
        violations: report.violations.slice(0, 200),
        open: report.open.length,
        stuck,
        doubleCharges: (byKind['double-charge'] ?? 0) + (byKind['over-refund'] ?? 0),
        counts: report.counts,
        money: report.money,
      },
      client: { violations: client.slice(0, 200) },
    };
    if (report.open.length > 0) writeFileSync(path.join(dir, 'open-sagas.json'), JSON.stringify(report.open, null, 2));
    writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(path.join(dir, 'chaos.log'), `${lines.join('\n')}\n`);
    return summary;
  } finally {
    await pool?.stop(5000).catch(() => undefined);
    if (api?.running) await api.stop(5000).catch(() => undefined);
    if (clients) {
      if (options.endpoint && !options.keep) await deleteResources(clients, names, urls).catch(() => undefined);
      destroyAwsClients(clients);
    }
    await redis?.stop().catch(() => undefined);
    await emulator?.stop().catch(() => undefined);
    process.removeListener('exit', lastResort);
    writeFileSync(path.join(dir, 'chaos.log'), `${lines.join('\n')}\n`);
  }
}

const round = (n: number): number => (Number.isFinite(n) ? Math.round(n * 100) / 100 : 0);

/** The summary in a few lines. */
export function formatSummary(s: ChaosSummary): string {
  const kv = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const f = s.faults;
  const out = [
    `chaos ${s.ok ? 'OK' : 'FAILED'}: ${s.orders.accepted} orders in ${(s.timings.wallMs / 1000).toFixed(1)} s wall (${s.throughput.ordersPerSecond} orders/s from first order to quiescence)`,
    `  orders:      ${kv(s.orders.byStatus)}; outcomes: ${kv(s.orders.byOutcome)}`,
    `  planned:     ${kv(s.orders.planned)}; replays ${s.orders.replays}; cancels ${s.orders.cancelsSent} (${s.orders.cancelAccepted} accepted, ${s.orders.cancelRefused} too late); HTTP retries ${s.orders.placeRetries}`,
    `  kills:       ${f.kills} SIGKILL + ${f.crashPointKills} at crash points (${f.crashPointsArmed} armed: ${kv(f.crashPointsHit)}); ${f.gracefulStops} SIGTERM (${f.gracefulClean} clean); ${f.started} worker starts; ${f.unexpectedExits.length} unexpected exits`,
    `  duplicates:  ${f.duplicatesInjected} injected of ${f.messagesSent} messages sent`,
    `  redis:       ${f.redisRestarts} restarts (${f.redisDownMs} ms down); emulator: ${f.emulatorPauses} pauses (${f.emulatorPausedMs} ms)`,
    `  DLQ:         ${f.dlqMessages} message(s)${f.dlqMessages ? `: ${kv(f.dlqReasons)}` : ''}`,
    `  invariants:  ${s.invariants.ok ? 'OK' : `${s.invariants.violationCount} violation(s): ${kv(s.invariants.byKind)}`}; stuck ${s.invariants.stuck}; double charges ${s.invariants.doubleCharges}`,
    `  free orders: ${kv(s.orders.free)}`,
    `  money:       captured ${s.invariants.money.captured}, refunded ${s.invariants.money.refunded}, completed orders ${s.invariants.money.completedTotal} (minor units)`,
    `  client:      ${s.client.violations.length} violation(s)`,
    `  timings:     setup ${(s.timings.setupMs / 1000).toFixed(1)} s, load ${(s.timings.loadMs / 1000).toFixed(1)} s, drain ${(s.timings.drainMs / 1000).toFixed(1)} s, check ${(s.timings.checkMs / 1000).toFixed(1)} s`,
    `  details:     ${path.join(s.dir, 'summary.json')}`,
  ];
  for (const v of s.invariants.violations.slice(0, 20)) out.push(`    [${v.kind}] ${v.subject}: ${v.detail}`);
  for (const v of s.client.violations.slice(0, 20)) out.push(`    [client:${v.kind}] ${v.orderId ?? '-'}: ${v.detail}`);
  for (const e of f.unexpectedExits.slice(0, 5))
    out.push(`    [unexpected exit] ${e.label} ${e.signal ?? e.code}:\n${e.log}`);
  return out.join('\n');
}
