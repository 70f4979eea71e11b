/**
 * Sends messages in batches of at most 10 (the SQS limit), retrying entries SQS reports as
 * failed. A send either fully succeeds or throws: the caller then leaves its own input message
 * undeleted, so nothing is lost, only delivered again.
 */
import { SendMessageBatchCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';

export interface OutgoingMessage {
  body: string;
  /** FIFO only. */
  groupId?: string;
  /** FIFO only. */
  deduplicationId?: string;
  /** Standard queues only (SQS refuses per-message delay on FIFO queues); at most 900. */
  delaySeconds?: number;
  attributes?: Record<string, string>;
}

const MAX_BATCH = 10;
const MAX_ATTEMPTS = 5;

function toAttributes(
  attributes: Record<string, string> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [
      k,
      { DataType: 'String', StringValue: v } satisfies MessageAttributeValue,
    ]),
  );
}

async function sendBatch(sqs: SQSClient, queueUrl: string, messages: OutgoingMessage[]): Promise<void> {
  let pending = messages.map((m, i) => ({ id: String(i), m }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: pending.map(({ id, m }) => ({
          Id: id,
          MessageBody: m.body,
          MessageGroupId: m.groupId,
          MessageDeduplicationId: m.deduplicationId,
          DelaySeconds: m.delaySeconds,
          MessageAttributes: toAttributes(m.attributes),
        })),
      }),
    );
    if (Failed.length === 0) return;
    const failedIds = new Set(Failed.map((f) => f.Id));
    const permanent = Failed.find((f) => f.SenderFault);
    if (permanent || attempt >= MAX_ATTEMPTS) {
      const f = permanent ?? Failed[0];
      throw new Error(`SQS refused a message for ${queueUrl}: ${f?.Code} ${f?.Message ?? ''}`);
    }
    pending = pending.filter(({ id }) => failedIds.has(id));
    await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
  }
}

export async function sendMessages(sqs: SQSClient, queueUrl: string, messages: OutgoingMessage[]): Promise<void> {
  const batches: OutgoingMessage[][] = [];
  for (let i = 0; i < messages.length; i += MAX_BATCH) batches.push(messages.slice(i, i + MAX_BATCH));
  await Promise.all(batches.map((batch) => sendBatch(sqs, queueUrl, batch)));
}
