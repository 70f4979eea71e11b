/**
 * Isolated AWS resources for one test file, on the emulator (or whatever AWS_ENDPOINT_URL names):
 * every table and queue of init-scripts/resources.json under a unique prefix.
 *
 *   const aws = await createTestAws();   // in beforeAll
 *   ... aws.clients.doc, aws.names.tables.inventory ...
 *   await aws.cleanup();                 // in afterAll
 */
import { DeleteTableCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../src/aws/clients';
import { initResources } from '../../src/infra/init';
import { resourceNames, type ResourceNames } from '../../src/infra/resources';

export const TEST_ENDPOINT = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
export const TEST_REGION = process.env.AWS_REGION ?? 'us-east-1';
/** DynamoDB's endpoint in this run: DynamoDB Local when global-setup started it, else TEST_ENDPOINT. */
export const TEST_DYNAMODB_ENDPOINT = process.env.AWS_ENDPOINT_URL_DYNAMODB || TEST_ENDPOINT;
export const TEST_SQS_ENDPOINT = process.env.AWS_ENDPOINT_URL_SQS || TEST_ENDPOINT;
/** The client configuration every test's clients use: each service on its endpoint. */
export const TEST_AWS_CONFIG = {
  awsEndpoint: TEST_ENDPOINT,
  dynamodbEndpoint: TEST_DYNAMODB_ENDPOINT,
  sqsEndpoint: TEST_SQS_ENDPOINT,
  awsRegion: TEST_REGION,
};
/** The same as environment variables, for loadConfig and child processes. */
export const TEST_AWS_ENV: Record<string, string> = {
  AWS_ENDPOINT_URL: TEST_ENDPOINT,
  AWS_ENDPOINT_URL_DYNAMODB: TEST_DYNAMODB_ENDPOINT,
  AWS_ENDPOINT_URL_SQS: TEST_SQS_ENDPOINT,
};

export interface TestAws {
  clients: AwsClients;
  names: ResourceNames;
  prefix: string;
  endpoint: string;
  /** Deletes the tables and queues and closes the clients; never throws. */
  cleanup(): Promise<void>;
}

/** A prefix no other run shares: `t<time><random>-`. */
export function uniquePrefix(label = 't'): string {
  return `${label}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}-`;
}

/** Deletes every table and queue of `names`; never throws (what is already gone stays gone). */
export async function deleteResources(clients: AwsClients, names: ResourceNames): Promise<void> {
  await Promise.allSettled([
    ...Object.values(names.tables).map((TableName) => clients.ddb.send(new DeleteTableCommand({ TableName }))),
    ...Object.values(names.queues).map(async (QueueName) => {
      const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName }));
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }),
  ]);
}

export async function createTestAws(label = 't'): Promise<TestAws> {
  const prefix = uniquePrefix(label);
  const clients = createAwsClients(TEST_AWS_CONFIG);
  await initResources(clients, prefix);
  const names = resourceNames(prefix);
  const cleanup = async (): Promise<void> => {
    await deleteResources(clients, names);
    destroyAwsClients(clients);
  };
  return { clients, names, prefix, endpoint: TEST_ENDPOINT, cleanup };
}

/**
 * Makes the next `count` TransactWriteItems on these clients fail as AWS does under contention
 * (TransactionCanceledException, reason TransactionConflict) — moto never does. Returns a counter.
 */
export function injectTransactionConflicts(clients: AwsClients, count: number): { injected: number } {
  const state = { injected: 0 };
  clients.ddb.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && state.injected < count) {
        state.injected += 1;
        throw new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectTransactionConflict' },
  );
  return state;
}
