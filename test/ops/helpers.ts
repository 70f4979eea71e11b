/** Shared steps of the /ops end-to-end tests: all over HTTP or the real queues, nothing faked. */
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { http, postOrder } from '../support/http';
import { as } from '../support/auth';

export interface SagaBody {
  state: string;
  status: string;
  version: number;
  stateEnteredAt: string;
  context: { outcome: string | null };
  outbox: Array<{ kind: string }>;
  history: Array<{
    version: number;
    eventType: string;
    actor?: string;
    payload: Record<string, unknown>;
    fromState: string | null;
    toState: string;
    timestamp: string;
  }>;
}

export interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}

export async function newEvent(baseUrl: string, totalQuantity: number): Promise<string> {
  const eventId = `ev-${randomUUID()}`;
  const put = await http(
    baseUrl,
    'PUT',
    `/events/${eventId}/inventory`,
    {
      eventName: 'Ops night',
      ticketTypes: [{ ticketType: 'GA', totalQuantity, price: 25, currency: 'EUR' }],
    },
    as.organizer(),
  );
  expect(put.status).toBe(200);
  return eventId;
}

export async function placeOrder(
  baseUrl: string,
  eventId: string,
  paymentToken: string,
  quantity = 1,
): Promise<string> {
  const res = await postOrder<{ orderId: string }>(baseUrl, { customerId: 'c-ops', eventId, paymentToken, quantity });
  expect(res.status).toBe(202);
  return res.body.orderId;
}

export async function sagaOf(baseUrl: string, orderId: string): Promise<SagaBody> {
  const res = await http<SagaBody>(baseUrl, 'GET', `/sagas/${orderId}`, undefined, as.operator());
  expect(res.status).toBe(200);
  return res.body;
}

/** [available, taken (held or sold)] of the event's GA tickets; which are sold, the orders say. */
export async function inventoryOf(baseUrl: string, eventId: string): Promise<number[]> {
  const res = await http<{
    ticketTypes: Array<{ availableQuantity: number; takenQuantity: number }>;
  }>(baseUrl, 'GET', `/events/${eventId}/inventory`, undefined, as.operator());
  const [ga] = res.body.ticketTypes;
  return [ga.availableQuantity, ga.takenQuantity];
}

export function expectContiguous(history: SagaBody['history']): void {
  expect(history.map((h) => h.version)).toEqual(history.map((_, i) => i + 1));
}

/**
 * Receives from a real queue until `enough` accepts what was seen (or the time runs out). The
 * messages stay hidden for `visibilitySeconds`; `release` makes them visible again.
 */
export async function receiveUntil(
  sqs: SQSClient,
  queueUrl: string,
  enough: (messages: Message[]) => boolean,
  { timeoutMs = 10000, visibilitySeconds = 20 }: { timeoutMs?: number; visibilitySeconds?: number } = {},
): Promise<Message[]> {
  const seen = new Map<string, Message>();
  const deadline = Date.now() + timeoutMs;
  while (!enough([...seen.values()]) && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: visibilitySeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    for (const m of out.Messages ?? []) seen.set(m.MessageId ?? '', m);
  }
  return [...seen.values()];
}

export async function release(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages
          .slice(i, i + 10)
          .map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}
