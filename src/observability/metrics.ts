/**
 * Prometheus metrics (prom-client), served by metrics-server.ts on METRICS_PORT, apart from the
 * API and its auth. All names start with `eventticket_`; the process's default metrics
 * (`process_cpu_seconds_total`, heap, event-loop lag, ...) come with them.
 *
 * Per-order figures in a fleet: divide the counters across processes, e.g.
 *   sum(rate(eventticket_aws_cost_dollars_total[5m]))
 *     / sum(rate(eventticket_orders_finished_total{outcome="completed"}[5m]))
 * The `eventticket_cost_per_completed_order` gauge is the same ratio for this process alone
 * (right when one process runs everything, as `npm run dev` and the bench do).
 *
 * What is read on each scrape: queue depths (one GetQueueAttributes per queue). Open and stuck
 * sagas come from the stuck listing (a status-index query and one read per open saga), refreshed
 * at most every `sagaScanIntervalMs` so a scrape never costs a scan of its own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FINAL_STATES } from '../../machines/order-saga';
import type { BatchObserver } from '../messaging/batching-sender';
import type { ConsumerObserver, HandlerErrorKind } from '../messaging/consumer';
import type { QueueDepths } from '../ops/queue-depths';
import type { StuckListing } from '../ops/stuck-sagas';
import type { SagaObserver, SagaStepRecord } from '../runtime/saga-runtime';
import type { CostMeter } from './cost-meter';

export interface MetricsSources {
  meter: CostMeter;
  /** Queue depths by queue (the DLQ among them, key `dlq`). */
  queueDepths?: () => Promise<QueueDepths>;
  /** The stuck listing: open sagas by state and how many are stuck. */
  stuckListing?: () => Promise<StuckListing>;
  /** Least time between two saga scans (ms, default 30000). */
  sagaScanIntervalMs?: number;
}

export interface Metrics {
  registry: Registry;
  sagaObserver: SagaObserver;
  consumerObserver: ConsumerObserver;
  /** Feeds the SendMessageBatch counters (src/messaging/batching-sender.ts). */
  batchObserver: BatchObserver;
}

const FINAL = new Set<string>(FINAL_STATES);
// Steps take ms to s; time in state up to the hold (10 min) and beyond.
const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800];

/** Builds the registry and the observers the runtime and consumers report to. */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const steps = new Counter({
    name: 'eventticket_saga_steps_total',
    help: 'Saga steps committed, by from -> to state',
    labelNames: ['from', 'to'],
    registers,
  });
  const stepSeconds = new Histogram({
    name: 'eventticket_saga_step_duration_seconds',
    help: 'From loading the saga to committing the step (s), by from -> to state',
    labelNames: ['from', 'to'],
    buckets: STEP_BUCKETS,
    registers,
  });
  const timeInState = new Histogram({
    name: 'eventticket_saga_time_in_state_seconds',
    help: 'How long a saga stayed in a state before a step moved it on (s)',
    labelNames: ['state'],
    buckets: STATE_BUCKETS,
    registers,
  });
  const started = new Counter({
    name: 'eventticket_sagas_started_total',
    help: 'Sagas started (orders placed)',
    registers,
  });
  const finished = new Counter({
    name: 'eventticket_orders_finished_total',
    help: 'Sagas that reached a final state, by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const handlerErrors = new Counter({
    name: 'eventticket_handler_errors_total',
    help: 'Message handler failures by consumer, kind (poison, exhausted, retry, retry_later, timeout) and error class',
    labelNames: ['consumer', 'kind', 'error'],
    registers,
  });
  const deleteFailures = new Counter({
    name: 'eventticket_sqs_delete_failures_total',
    help: 'Handled messages whose DeleteMessageBatch entry failed, by consumer (they are delivered again)',
    labelNames: ['consumer'],
    registers,
  });
  const sendBatches = new Counter({
    name: 'eventticket_sqs_send_batches_total',
    help: 'SendMessageBatch calls made by the batching sender, by queue',
    labelNames: ['queue'],
    registers,
  });
  const sendEntries = new Counter({
    name: 'eventticket_sqs_send_batch_entries_total',
    help: 'Entries of SendMessageBatch calls, by queue and result (sent, failed: retried or refused)',
    labelNames: ['queue', 'result'],
    registers,
  });
  const messageAge = new Histogram({
    name: 'eventticket_message_age_at_receive_seconds',
    help: 'How long a message waited in its queue before a consumer received it (s)',
    labelNames: ['queue'],
    buckets: STEP_BUCKETS,
    registers,
  });
  // Oldest age seen since the last scrape, per queue: SQS has no such attribute (it is a CloudWatch metric).
  const oldestSinceScrape = new Map<string, number>();
  new Gauge({
    name: 'eventticket_queue_oldest_message_age_seconds',
    help: 'Age of the oldest message received from each queue since the previous scrape (s); 0 when none',
    labelNames: ['queue'],
    registers,
    collect() {
      this.reset();
      for (const [queue, ms] of oldestSinceScrape) this.set({ queue }, ms / 1000);
      for (const queue of oldestSinceScrape.keys()) oldestSinceScrape.set(queue, 0);
    },
  });

  // ---- cost -------------------------------------------------------------------------------------
  const requests = new Counter({
    name: 'eventticket_aws_requests_total',
    help: 'AWS calls, by service and operation',
    labelNames: ['service', 'operation'],
    registers,
  });
  const capacity = new Counter({
    name: 'eventticket_dynamodb_capacity_units_total',
    help: 'DynamoDB request units, by kind (read, write)',
    labelNames: ['kind'],
    registers,
  });
  const reported = new Counter({
    name: 'eventticket_dynamodb_reported_capacity_units_total',
    help: 'DynamoDB request units as the engine reported them, by table and GSI (index="" for the table) and kind',
    labelNames: ['table', 'index', 'kind'],
    registers,
  });
  const sqsBilled = new Counter({
    name: 'eventticket_sqs_billed_requests_total',
    help: 'SQS requests as billed (one per 64 KB), by queue type',
    labelNames: ['queue_type'],
    registers,
  });
  const dollars = new Counter({
    name: 'eventticket_aws_cost_dollars_total',
    help: 'On-demand list price of the AWS calls (USD, us-east-1, 2024-11-01 prices)',
    registers,
  });
  const dollarsProvisioned = new Counter({
    name: 'eventticket_aws_cost_provisioned_dollars_total',
    help: 'Price of the AWS calls on DynamoDB provisioned capacity at 70% target utilization (USD, us-east-1, 2024-11-01 prices; SQS as on-demand)',
    registers,
  });
  sources.meter.onCall((call) => {
    requests.inc({ service: call.service, operation: call.operation });
    if (call.wru) capacity.inc({ kind: 'write' }, call.wru);
    if (call.rru) capacity.inc({ kind: 'read' }, call.rru);
    for (const t of call.byTarget ?? []) reported.inc({ table: t.table, index: t.index ?? '', kind: t.kind }, t.units);
    if (call.sqsBilled) sqsBilled.inc({ queue_type: call.fifo ? 'fifo' : 'standard' }, call.sqsBilled);
    if (call.dollars) dollars.inc(call.dollars);
    if (call.dollarsProvisioned) dollarsProvisioned.inc(call.dollarsProvisioned);
  });
  let completed = 0;
  new Gauge({
    name: 'eventticket_cost_per_completed_order',
    help: "This process's AWS requests, capacity units and USD divided by the orders it completed, by figure",
    labelNames: ['figure'],
    registers,
    collect() {
      this.reset();
      if (completed === 0) return;
      const t = sources.meter.snapshot();
      const sqsRequests = Object.entries(t.requests)
        .filter(([op]) => op.startsWith('SQS.'))
        .reduce((a, [, n]) => a + n, 0);
      this.set({ figure: 'dynamodb_requests' }, t.dynamodbRequests / completed);
      this.set({ figure: 'sqs_requests' }, sqsRequests / completed);
      this.set({ figure: 'wru' }, t.wru / completed);
      this.set({ figure: 'rru' }, t.rru / completed);
      this.set({ figure: 'dollars' }, t.dollars / completed);
      this.set({ figure: 'dollars_provisioned' }, t.dollarsProvisioned / completed);
    },
  });

  // ---- queues and sagas, read on scrape -----------------------------------------------------------
  if (sources.queueDepths) {
    const read = sources.queueDepths;
    let dlq: number | undefined; // read with the depths, so one scrape asks SQS once
    new Gauge({
      name: 'eventticket_queue_messages',
      help: 'Messages in each queue as SQS approximates them, by state (visible, in_flight, delayed)',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const depths = await read().catch(() => undefined);
        this.reset();
        for (const [queue, d] of Object.entries(depths ?? {})) {
          this.set({ queue, state: 'visible' }, d.visible);
          this.set({ queue, state: 'in_flight' }, d.inFlight);
          this.set({ queue, state: 'delayed' }, d.delayed);
        }
        dlq = depths ? depths.dlq.visible + depths.dlq.inFlight + depths.dlq.delayed : undefined;
      },
    });
    new Gauge({
      name: 'eventticket_dlq_messages',
      help: 'Dead letters waiting for an operator (all states); alert on > 0',
      registers,
      async collect() {
        if (dlq === undefined) {
          const depths = await read().catch(() => undefined);
          if (depths) dlq = depths.dlq.visible + depths.dlq.inFlight + depths.dlq.delayed;
        }
        if (dlq !== undefined) this.set(dlq);
        dlq = undefined;
      },
    });
  }
  if (sources.stuckListing) {
    const list = sources.stuckListing;
    const interval = sources.sagaScanIntervalMs ?? 30000;
    let last: { at: number; listing: Promise<StuckListing | undefined> } | undefined;
    const listing = (): Promise<StuckListing | undefined> => {
      if (!last || Date.now() - last.at >= interval) last = { at: Date.now(), listing: list().catch(() => undefined) };
      return last.listing;
    };
    new Gauge({
      name: 'eventticket_sagas_open',
      help: 'Open (not final) sagas by state, from the stuck listing (refreshed at most every scan interval)',
      labelNames: ['state'],
      registers,
      async collect() {
        const l = await listing();
        if (!l) return;
        this.reset();
        for (const [state, n] of Object.entries(l.openByState)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'eventticket_sagas_stuck',
      help: "Open sagas idle past their state's threshold (GET /ops/sagas/stuck); alert on > 0",
      registers,
      async collect() {
        const l = await listing();
        if (l) this.set(l.total);
      },
    });
  }

  const sagaObserver: SagaObserver = {
    started: () => started.inc(),
    step: (r: SagaStepRecord) => {
      const labels = { from: r.from, to: r.to };
      steps.inc(labels);
      stepSeconds.observe(labels, r.durationMs / 1000);
      if (r.timeInStateMs !== undefined) timeInState.observe({ state: r.from }, Math.max(0, r.timeInStateMs) / 1000);
      if (FINAL.has(r.to) && !FINAL.has(r.from)) {
        const outcome = r.outcome ?? r.to;
        finished.inc({ outcome });
        if (outcome === 'completed') completed += 1;
      }
    },
  };
  const consumerObserver: ConsumerObserver = {
    received: (queue: string, ageMs: number) => {
      messageAge.observe({ queue }, ageMs / 1000);
      if (ageMs > (oldestSinceScrape.get(queue) ?? 0)) oldestSinceScrape.set(queue, ageMs);
    },
    failed: (consumer: string, kind: HandlerErrorKind, error: string) => handlerErrors.inc({ consumer, kind, error }),
    deleteFailed: (consumer: string, count: number) => deleteFailures.inc({ consumer }, count),
  };
  const batchObserver: BatchObserver = {
    batchSent: (queueUrl: string, entries: number, failed: number) => {
      const queue = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
      sendBatches.inc({ queue });
      sendEntries.inc({ queue, result: 'sent' }, entries - failed);
      if (failed > 0) sendEntries.inc({ queue, result: 'failed' }, failed);
    },
  };
  return { registry, sagaObserver, consumerObserver, batchObserver };
}
