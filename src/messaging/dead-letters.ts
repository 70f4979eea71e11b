/**
 * Moving a message to the DLQ with its reason. The reason and the source travel as message
 * attributes so an operator (GET /ops/dlq) sees why, and a redrive knows where to send it back.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendMessages } from './sender';

export interface DeadLetter {
  body: string;
  reason: string;
  sourceQueueUrl: string;
  originalMessageId: string;
  receiveCount: number;
  groupId?: string;
  deduplicationId?: string;
  correlationId?: string;
}

export const DLQ_ATTRIBUTES = {
  reason: 'reason',
  sourceQueueUrl: 'sourceQueueUrl',
  originalMessageId: 'originalMessageId',
  receiveCount: 'receiveCount',
  failedAt: 'failedAt',
  groupId: 'groupId',
  deduplicationId: 'deduplicationId',
  correlationId: 'correlationId',
} as const;

export async function sendToDeadLetterQueue(sqs: SQSClient, dlqUrl: string, letter: DeadLetter): Promise<void> {
  const attributes: Record<string, string> = {
    [DLQ_ATTRIBUTES.reason]: letter.reason.slice(0, 1000) || 'unknown',
    [DLQ_ATTRIBUTES.sourceQueueUrl]: letter.sourceQueueUrl,
    [DLQ_ATTRIBUTES.originalMessageId]: letter.originalMessageId,
    [DLQ_ATTRIBUTES.receiveCount]: String(letter.receiveCount),
    [DLQ_ATTRIBUTES.failedAt]: new Date().toISOString(),
  };
  if (letter.groupId) attributes[DLQ_ATTRIBUTES.groupId] = letter.groupId;
  if (letter.deduplicationId) attributes[DLQ_ATTRIBUTES.deduplicationId] = letter.deduplicationId;
  if (letter.correlationId) attributes[DLQ_ATTRIBUTES.correlationId] = letter.correlationId;
  await sendMessages(sqs, dlqUrl, [{ body: letter.body, attributes }]);
}
