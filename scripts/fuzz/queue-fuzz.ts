/**
 * The queue half of the hostile corpus: bad messages (bodies, attributes, FIFO group ids) sent to
 * every queue the workers consume, with real workers running. Rule: every one ends in a DLQ with
 * its reason, none stays behind, none is acted on.
 */
import { ReceiveMessageCommand, SendMessageCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import type { AwsClients } from '../../src/aws/clients';
import type { QueueKey } from '../../src/infra/resources';
import type { QueueUrls } from '../../src/messaging/queues';
import { messageArb } from './corpus';

const CONSUMED: QueueKey[] = ['inventory', 'payment', 'notification', 'timer', 'saga'];

export interface QueueFuzzReport {
  sent: number;
  byQueue: Record<string, number>;
  /** Messages found in a DLQ with a non-empty reason. */
  deadLettered: number;
  /** Sent, not in a DLQ when the queues had drained (or the time ran out). */
  missing: number;
  reasons: Record<string, number>;
  examplesMissing: Array<{ queue: string; label: string; body: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function depth(clients: AwsClients, url: string): Promise<number> {
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

export async function runQueueFuzz(
  clients: AwsClients,
  queues: QueueUrls,
  inputs: number,
  seed: number,
  timeoutMs = 180_000,
): Promise<QueueFuzzReport> {
  const report: QueueFuzzReport = {
    sent: 0,
    byQueue: {},
    deadLettered: 0,
    missing: 0,
    reasons: {},
    examplesMissing: [],
  };
  const messages = fc.sample(messageArb(), { numRuns: inputs, seed });
  const sent = new Map<string, { queue: string; label: string; body: string }>();
  for (const [i, m] of messages.entries()) {
    const queue = CONSUMED[i % CONSUMED.length];
    const fifo = queue === 'saga';
    const out = await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queues[queue],
        MessageBody: m.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
        ...(fifo ? { MessageGroupId: m.groupId, MessageDeduplicationId: `fuzz-${seed}-${i}` } : {}),
      }),
    );
    sent.set(out.MessageId!, { queue, label: m.label, body: m.body.slice(0, 200) });
    report.sent++;
    report.byQueue[queue] = (report.byQueue[queue] ?? 0) + 1;
  }

  const found = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  // Receive from the DLQs until every message is found, or the consumed queues are drained and
  // two rounds in a row bring nothing new from the DLQs.
  while (Date.now() < deadline && found.size < sent.size && quietRounds < 3) {
    let got = 0;
    for (const dlq of [queues.dlq, queues.dlqFifo]) {
      const out = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 900,
          MessageAttributeNames: ['All'],
        }),
      );
      for (const m of out.Messages ?? []) {
        got++;
        const original = m.MessageAttributes?.originalMessageId?.StringValue;
        if (original && sent.has(original)) found.set(original, m.MessageAttributes?.reason?.StringValue ?? '');
      }
    }
    if (got > 0) {
      quietRounds = 0;
      continue;
    }
    const backlog = await Promise.all(CONSUMED.map((q) => depth(clients, queues[q])));
    quietRounds = backlog.every((d) => d === 0) ? quietRounds + 1 : 0;
    if (quietRounds === 0) await sleep(500);
  }
  for (const [id, reason] of found) {
    if (reason) report.deadLettered++;
    // "poison: UnknownSagaError: no saga for order …" → "poison: UnknownSagaError"
    const kind = reason.split(': ').slice(0, 2).join(': ').slice(0, 60) || '(no reason)';
    report.reasons[kind] = (report.reasons[kind] ?? 0) + 1;
    sent.delete(id);
  }
  report.missing = sent.size;
  report.examplesMissing = [...sent.values()].slice(0, 10);
  return report;
}
