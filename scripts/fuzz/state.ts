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

export async function stateDigest(clients: AwsClients, names: ResourceNames, queues: Partial<QueueUrls>): Promise<string> {
  const hash = createHash('sha256');
  for (const TableName of Object.values(names.tables).sort()) {
    const items: string[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await clients.doc.send(new ScanCommand({ TableName, ConsistentRead: true, ExclusiveStartKey }));
      for (const item of page.Items ?? []) items.push(canonicalJson(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    hash.update(`${TableName}\n${items.sort().join('\n')}\n`);
  }
  for (const [key, QueueUrl] of Object.entries(queues).sort(([a], [b]) => a.localeCompare(b))) {
    if (QueueUrl === undefined) continue;
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    hash.update(`${key} ${Attributes?.ApproximateNumberOfMessages} ${Attributes?.ApproximateNumberOfMessagesNotVisible} ${Attributes?.ApproximateNumberOfMessagesDelayed}\n`);
  }
  return hash.digest('hex');
}
