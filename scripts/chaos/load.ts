/**
 * The customers of a chaos run: a catalogue of events with limited stock, and orders placed over
 * HTTP in a seeded mix (pay, be declined, cancel, pay too late), with a bounded number of orders
 * open at once so the SQS backlog stays small. Requests that fail or time out (an emulator
 * outage, a restarting process) are retried with the same Idempotency-Key, as a real client would.
 */
import { toolAuth } from '../auth/tool-auth';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { orderIdForIdempotencyKey } from '../../src/api/ids';
import type { OrderItem } from '../../machines/order-saga';
import type { ChaosOptions, ScenarioMix } from './options';
import type { Prng } from './prng';
import { sleep } from './infra';

export type Scenario = keyof ScenarioMix;

export interface CatalogueEvent {
  eventId: string;
  weight: number;
  ticketTypes: Array<{ ticketType: string; totalQuantity: number; price: number; currency: string; shards?: number }>;
}

/**
 * Six events: one that sells out at once, one within the run, one towards its end, one never; one
 * of free tickets (the saga skips payment at a total of 0, whatever the token) and one priced in
 * Kuwaiti dinar (3 decimals), so the run exercises the minor-unit edges too. Prices are decimals,
 * as a client sends them.
 */
export function catalogue(runId: string, orders: number, shards = 1): CatalogueEvent[] {
  const n = Math.max(orders, 20);
  const events: CatalogueEvent[] = [
    {
      eventId: `${runId}-tiny`,
      weight: 0.05,
      ticketTypes: [{ ticketType: 'GA', totalQuantity: 3, price: 15, currency: 'EUR' }],
    },
    {
      eventId: `${runId}-small`,
      weight: 0.25,
      ticketTypes: [
        { ticketType: 'GA', totalQuantity: Math.round(n * 0.25), price: 39.99, currency: 'EUR' },
        { ticketType: 'VIP', totalQuantity: Math.max(2, Math.round(n * 0.04)), price: 120.5, currency: 'EUR' },
      ],
    },
    {
      eventId: `${runId}-medium`,
      weight: 0.35,
      ticketTypes: [
        { ticketType: 'GA', totalQuantity: Math.round(n * 0.5), price: 24.75, currency: 'EUR' },
        { ticketType: 'VIP', totalQuantity: Math.max(2, Math.round(n * 0.08)), price: 89.9, currency: 'EUR' },
      ],
    },
    {
      eventId: `${runId}-large`,
      weight: 0.35,
      ticketTypes: [
        { ticketType: 'GA', totalQuantity: n * 3, price: 19.99, currency: 'EUR' },
        { ticketType: 'VIP', totalQuantity: n, price: 59.5, currency: 'EUR' },
      ],
    },
    {
      eventId: `${runId}-free`,
      weight: 0.1,
      ticketTypes: [{ ticketType: 'FREE', totalQuantity: n, price: 0, currency: 'EUR' }],
    },
    {
      eventId: `${runId}-kwd`,
      weight: 0.05,
      ticketTypes: [{ ticketType: 'GA', totalQuantity: n, price: 12.345, currency: 'KWD' }],
    },
  ];
  if (shards === 1) return events;
  return events.map((e) => ({ ...e, ticketTypes: e.ticketTypes.map((t) => ({ ...t, shards })) }));
}

export interface PlannedOrder {
  index: number;
  idempotencyKey: string;
  customerId: string;
  eventId: string;
  items: OrderItem[];
  scenario: Scenario;
  paymentToken: string;
  /** For 'cancel': how long after the 202 the customer cancels. */
  cancelAfterMs?: number;
  replay: boolean;
}

export function planOrder(
  index: number,
  runId: string,
  events: CatalogueEvent[],
  options: ChaosOptions,
  prng: Prng,
): PlannedOrder {
  const scenario = prng.weighted(options.mix);
  const event = prng.weighted(Object.fromEntries(events.map((e) => [e.eventId, e.weight])));
  const types = events.find((e) => e.eventId === event)!.ticketTypes;
  const both = types.length > 1 && prng.next() < 0.2;
  const chosen = both ? types : [prng.pick(types)];
  const items = chosen.map((t) => ({
    ticketType: t.ticketType,
    quantity: prng.int(1, t.ticketType === 'VIP' ? 2 : 3),
  }));
  const paymentToken =
    scenario === 'success'
      ? 'tok_success'
      : scenario === 'declined'
        ? 'tok_declined'
        : scenario === 'late'
          ? 'tok_slow'
          : prng.pick(['tok_success', 'tok_slow']);
  return {
    index,
    idempotencyKey: `${runId}-order-${index}`,
    customerId: `cust-${prng.int(1, Math.max(10, Math.round(options.orders / 5)))}`,
    eventId: event,
    items,
    scenario,
    paymentToken,
    cancelAfterMs: scenario === 'cancel' ? Math.round(prng.between(0, 1500)) : undefined,
    replay: prng.next() < options.replayShare,
  };
}

export interface OrderOutcome {
  plan: PlannedOrder;
  orderId?: string;
  placeAttempts: number;
  /** Set when no attempt got an answer and no order exists under the key's id. */
  placeError?: string;
  /** Answered 409 sold-out at POST (issue 15): told, and no saga was started. */
  soldOutAtPost?: boolean;
  cancelStatus?: number;
  /** For replays: did the second POST return the same order, marked as replayed? */
  replayMatched?: boolean;
  finalStatus?: string;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** One HTTP request with a timeout; network errors and timeouts throw. */
async function call(
  baseUrl: string,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Retries network errors, timeouts and 5xx with backoff; returns the first other answer. */
async function callWithRetry(
  baseUrl: string,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  attempts: { count: number },
  maxAttempts = 12,
): Promise<Answer | { error: string }> {
  let last = 'no attempt';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    attempts.count++;
    try {
      const answer = await call(baseUrl, method, path, body, headers, 20000);
      if (answer.status < 500) return answer;
      last = `HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
    } catch (error) {
      last = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    await sleep(Math.min(4000, 200 * 2 ** (attempt - 1)));
  }
  return { error: last };
}

export interface LoadStats {
  placed: number;
  placeRetries: number;
  placeFailures: number;
  replays: number;
  cancelsSent: number;
  cancelAccepted: number;
  cancelRefused: number;
}

/**
 * Places orders with at most `maxInFlight` of them open (placing, or not yet final). Final means
 * the order item says COMPLETED, CANCELLED or FAILED (strongly consistent reads, in batches).
 */
export class LoadDriver {
  readonly outcomes: OrderOutcome[] = [];
  readonly stats: LoadStats = {
    placed: 0,
    placeRetries: 0,
    placeFailures: 0,
    replays: 0,
    cancelsSent: 0,
    cancelAccepted: 0,
    cancelRefused: 0,
  };
  /** orderId → outcome, for orders placed and not final yet. */
  private readonly open = new Map<string, OrderOutcome>();
  private placing = 0;
  private readonly tasks = new Set<Promise<void>>();
  private readonly wakers: Array<() => void> = [];
  private polling = false;
  private poller: Promise<void> | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly doc: DynamoDBDocumentClient,
    private readonly ordersTable: string,
    private readonly maxInFlight: number,
    private readonly log: (line: string) => void,
  ) {}

  get inFlight(): number {
    return this.placing + this.open.size;
  }

  startPolling(): void {
    this.polling = true;
    this.poller = (async () => {
      while (this.polling) {
        await this.pollOnce().catch((error: unknown) => this.log(`poll failed: ${String(error)}`));
        await sleep(400);
      }
    })();
  }

  async stopPolling(): Promise<void> {
    this.polling = false;
    await this.poller;
  }

  /** Waits for a free slot, then starts placing the order (does not wait for it). */
  async submit(plan: PlannedOrder, signal?: AbortSignal): Promise<void> {
    const onAbort = () => this.wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    while (this.inFlight >= this.maxInFlight && !signal?.aborted) await new Promise<void>((r) => this.wakers.push(r));
    signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) return;
    this.placing++;
    const outcome: OrderOutcome = { plan, placeAttempts: 0 };
    this.outcomes.push(outcome);
    const task = this.run(outcome).finally(() => {
      this.tasks.delete(task);
      this.wake();
    });
    this.tasks.add(task);
  }

  /** Every placing, cancel and replay request answered. */
  async settled(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }

  /** Resolves true once no placed order is open, false at the deadline. */
  async drained(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let lastReport = 0;
    while (this.open.size > 0 && Date.now() < deadline && !signal?.aborted) {
      if (Date.now() - lastReport > 10000) {
        lastReport = Date.now();
        this.log(`draining: ${this.open.size} order(s) still open`);
      }
      await sleep(500);
    }
    return this.open.size === 0;
  }

  openOrderIds(): string[] {
    return [...this.open.keys()];
  }

  private wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }

  private async run(outcome: OrderOutcome): Promise<void> {
    const { plan } = outcome;
    const body = {
      customerId: plan.customerId,
      eventId: plan.eventId,
      items: plan.items,
      paymentToken: plan.paymentToken,
    };
    const customer = await toolAuth().headers('customer', plan.customerId);
    const headers = {
      ...customer,
      'Idempotency-Key': plan.idempotencyKey,
      'X-Correlation-Id': `${plan.idempotencyKey}`,
    };
    const attempts = { count: 0 };
    try {
      const answer = await callWithRetry(this.baseUrl, 'POST', '/orders', body, headers, attempts);
      outcome.placeAttempts = attempts.count;
      this.stats.placeRetries += attempts.count - 1;
      if ('error' in answer || answer.status !== 202) {
        // Maybe the order was created and only the answer was lost: look under the key's id.
        const expectedId = orderIdForIdempotencyKey(plan.customerId, plan.idempotencyKey);
        const exists = await this.exists(expectedId);
        if (
          !exists &&
          !('error' in answer) &&
          answer.status === 409 &&
          String(answer.body.type).endsWith('/sold-out')
        ) {
          outcome.soldOutAtPost = true;
          return;
        }
        if (!exists) {
          outcome.placeError =
            'error' in answer ? answer.error : `HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
          this.stats.placeFailures++;
          this.log(`order ${plan.index} not placed: ${outcome.placeError}`);
          return;
        }
        outcome.orderId = expectedId;
      } else {
        outcome.orderId = String(answer.body.orderId);
      }
      this.stats.placed++;
      this.open.set(outcome.orderId, outcome);
    } finally {
      this.placing--;
      this.wake();
    }

    const orderId = outcome.orderId;
    const followUps: Array<Promise<void>> = [];
    if (plan.replay) {
      followUps.push(
        (async () => {
          this.stats.replays++;
          const again = await callWithRetry(this.baseUrl, 'POST', '/orders', body, headers, { count: 0 });
          outcome.replayMatched =
            !('error' in again) &&
            again.status === 202 &&
            again.body.orderId === orderId &&
            again.headers.get('idempotent-replayed') === 'true';
        })(),
      );
    }
    if (plan.cancelAfterMs !== undefined) {
      followUps.push(
        (async () => {
          await sleep(plan.cancelAfterMs ?? 0);
          this.stats.cancelsSent++;
          const answer = await callWithRetry(
            this.baseUrl,
            'POST',
            `/orders/${orderId}/cancel`,
            { reason: 'chaos: changed my mind' },
            customer,
            { count: 0 },
          );
          if ('error' in answer) {
            this.log(`cancel of ${orderId} got no answer: ${answer.error}`);
            return;
          }
          outcome.cancelStatus = answer.status;
          if (answer.status === 202) this.stats.cancelAccepted++;
          else this.stats.cancelRefused++;
        })(),
      );
    }
    await Promise.all(followUps);
  }

  private async exists(orderId: string): Promise<boolean> {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        const out = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.ordersTable]: { Keys: [{ orderId }], ProjectionExpression: 'orderId', ConsistentRead: true },
            },
          }),
        );
        return (out.Responses?.[this.ordersTable] ?? []).length > 0;
      } catch {
        await sleep(1000);
      }
    }
    return false;
  }

  private async pollOnce(): Promise<void> {
    const ids = [...this.open.keys()];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Array<Record<string, unknown>> = ids.slice(i, i + 100).map((orderId) => ({ orderId }));
      while (keys.length > 0) {
        const out = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.ordersTable]: {
                Keys: keys,
                ProjectionExpression: 'orderId, #s',
                ExpressionAttributeNames: { '#s': 'status' },
                ConsistentRead: true,
              },
            },
          }),
        );
        for (const item of out.Responses?.[this.ordersTable] ?? []) {
          const status = String(item.status);
          if (status === 'COMPLETED' || status === 'CANCELLED' || status === 'FAILED') {
            const outcome = this.open.get(String(item.orderId));
            if (outcome) outcome.finalStatus = status;
            this.open.delete(String(item.orderId));
          }
        }
        keys = (out.UnprocessedKeys?.[this.ordersTable]?.Keys as Array<Record<string, unknown>> | undefined) ?? [];
      }
    }
    this.wake();
  }
}
