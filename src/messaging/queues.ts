/** Queue URLs, resolved once per process by name. */
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueKey, ResourceNames } from '../infra/resources';

export type QueueUrls = Record<QueueKey, string>;

export async function resolveQueueUrls(sqs: SQSClient, names: ResourceNames): Promise<QueueUrls> {
  const entries = await Promise.all(
    Object.entries(names.queues).map(async ([key, QueueName]) => {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName }));
      if (!QueueUrl) throw new Error(`queue ${QueueName} not found: run npm run init`);
      return [key, QueueUrl] as const;
    }),
  );
  return Object.fromEntries(entries) as QueueUrls;
}

export const isFifoUrl = (url: string): boolean => url.endsWith('.fifo');
