/** Creates the tables and queues, idempotently: running it twice changes nothing. */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../aws/clients';
import { awsErrorName } from '../aws/errors';
import { LISTING_INDEXES } from '../store/indexes';
import { backfillCreatedKeys } from '../store/backfill';
import { addMissingIndexes, dropRetiredIndexes, enableStream } from './upgrade-indexes';
import { queueDefinitions, REDRIVE_MAX_RECEIVE_COUNT, tableDefinitions, type QueueDefinition } from './resources';

async function createTable(clients: AwsClients, input: ReturnType<typeof tableDefinitions>[number]): Promise<void> {
  let existed = false;
  try {
    await clients.ddb.send(new CreateTableCommand(input));
  } catch (error) {
    if (awsErrorName(error) !== 'ResourceInUseException') throw error;
    existed = true;
  }
  for (let i = 0; i < 120; i++) {
    const { Table } = await clients.ddb.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (Table?.TableStatus === 'ACTIVE') {
      // A table made by an older definition gets the indexes added since, its stream, older orders
      // the listing key (a filtered scan: run again after an interrupted upgrade, it finishes the
      // job), and loses the indexes retired since (one UpdateTable change at a time, each awaited).
      if (existed) {
        await addMissingIndexes(clients, input);
        await enableStream(clients, input);
        await dropRetiredIndexes(clients, input);
        if (input.GlobalSecondaryIndexes?.some((g) => LISTING_INDEXES.includes(g.IndexName ?? ''))) {
          await backfillCreatedKeys(clients.doc, input.TableName!);
        }
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`table ${input.TableName} did not become ACTIVE`);
}

async function queueArn(clients: AwsClients, queueUrl: string): Promise<string> {
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${queueUrl} has no ARN`);
  return arn;
}

async function createQueue(clients: AwsClients, queue: QueueDefinition, urls: Map<string, string>): Promise<void> {
  const attributes: Record<string, string> = { ...queue.Attributes };
  if (queue.DeadLetterQueue) {
    const dlqUrl = urls.get(queue.DeadLetterQueue);
    if (!dlqUrl)
      throw new Error(`dead-letter queue ${queue.DeadLetterQueue} must be defined before ${queue.QueueName}`);
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: await queueArn(clients, dlqUrl),
      maxReceiveCount: REDRIVE_MAX_RECEIVE_COUNT,
    });
  }
  // FifoQueue can only be given at creation; the rest is (re)applied so a changed definition lands.
  const { QueueUrl } = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: queue.QueueName,
      Attributes: attributes.FifoQueue ? { FifoQueue: attributes.FifoQueue } : {},
    }),
  );
  if (!QueueUrl) throw new Error(`no URL for queue ${queue.QueueName}`);
  const { FifoQueue: _fifo, ...mutable } = attributes;
  if (Object.keys(mutable).length > 0) {
    await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: mutable }));
  }
  urls.set(queue.QueueName, QueueUrl);
}

export async function initResources(clients: AwsClients, prefix: string): Promise<void> {
  await Promise.all(tableDefinitions(prefix).map((t) => createTable(clients, t)));
  const urls = new Map<string, string>();
  // In definition order: dead-letter queues come first so their ARNs exist for the redrive policies.
  for (const queue of queueDefinitions(prefix)) await createQueue(clients, queue, urls);
}
