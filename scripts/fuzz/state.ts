/**
 * A digest of everything the service stores: every item of every table (strongly consistent
 * scans, items in a canonical order) and every queue's message counts. Equal digests: no record
 * changed and no message was sent.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { AwsClients } from '../../src/aws/clients';
import { canonicalJson } from '../../src/api/ids';
import type { ResourceNames } from '../../src/infra/resources';
import type { QueueUrls } from '../../src/messaging/queues';

export async function stateDigest(
  clients: AwsClients,
  names: ResourceNames,
  queues: Partial<QueueUrls>,
): Promise<string> {
  // All tables and queues at once: the digest runs after every rejected write of a long run.
  const tables = Object.values(names.tables)
    .sort()
    .map(async (TableName) => {
      const items: string[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await clients.doc.send(new ScanCommand({ TableName, ConsistentRead: true, ExclusiveStartKey }));
        for (const item of page.Items ?? []) items.push(canonicalJson(item));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return `${TableName}\n${items.sort().join('\n')}\n`;
    });
  const counts = Object.entries(queues)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(async ([key, QueueUrl]) => {
      if (QueueUrl === undefined) return '';
      const { Attributes } = await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return `${key} ${Attributes?.ApproximateNumberOfMessages} ${Attributes?.ApproximateNumberOfMessagesNotVisible} ${Attributes?.ApproximateNumberOfMessagesDelayed}\n`;
    });
  const parts = await Promise.all([...tables, ...counts]);
  return createHash('sha256').update(parts.join('')).digest('hex');
}
