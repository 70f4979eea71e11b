/**
 * How many messages each queue holds, as SQS approximates them: waiting (visible), being handled
 * (in flight: leased to a worker) and delayed (timers). For the operator's overview; the numbers
 * lag by up to a minute on AWS and are never used for decisions.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueKey } from '../infra/resources';
import type { QueueUrls } from '../messaging/queues';

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export type QueueDepths = Record<QueueKey, QueueDepth>;

export async function readQueueDepths(sqs: SQSClient, queues: QueueUrls): Promise<QueueDepths> {
  const entries = await Promise.all(
    (Object.entries(queues) as Array<[QueueKey, string]>).map(async ([key, QueueUrl]) => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const depth: QueueDepth = {
        visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
      };
      return [key, depth] as const;
    }),
  );
  return Object.fromEntries(entries) as QueueDepths;
}
