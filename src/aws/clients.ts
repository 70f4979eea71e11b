/**
 * The AWS SDK clients. The same code talks to the emulator, LocalStack or AWS: only the endpoint
 * differs. The SDK's standard retry mode already retries throttling, 5xx and network errors with
 * backoff. The composition root (src/service.ts) attaches the cost meter to them
 * (observability/cost-meter.ts, meterClients): aws/ is the bottom layer and knows nothing of it.
 *
 * The SDK's per-call options were measured for CPU (issue 25) and are left at their defaults: none
 * saves a measurable share of a call, and some would give up a check or AWS's own routing —
 * checksum modes (not read by the DynamoDB/SQS clients), SQS's `md5`, DynamoDB's
 * `accountIdEndpointMode`, the agent's socket options. Figures and sources: docs/benchmarks.md,
 * "The SDK clients' options".
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config/config';

export interface AwsClients {
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** DynamoDB Streams (the TicketOrders stream's tail: src/store/order-stream.ts), at DynamoDB's endpoint. */
  streams: DynamoDBStreamsClient;
  sqs: SQSClient;
}

/**
 * Where each service answers. `dynamodbEndpoint` / `sqsEndpoint` win over the common `awsEndpoint`;
 * none at all means real AWS (the SDK's own resolution).
 */
export type AwsConfig = Pick<Config, 'awsRegion'> &
  Partial<Pick<Config, 'awsEndpoint' | 'dynamodbEndpoint' | 'sqsEndpoint'>>;

/** The endpoint a client for `service` uses under `config` (undefined: real AWS). */
export function serviceEndpoint(config: AwsConfig, service: 'dynamodb' | 'sqs'): string | undefined {
  return (service === 'dynamodb' ? config.dynamodbEndpoint : config.sqsEndpoint) ?? config.awsEndpoint;
}

function clientConfig(config: AwsConfig, service: 'dynamodb' | 'sqs') {
  // Explicit, per service: the SDK reads AWS_ENDPOINT_URL_DYNAMODB / _SQS only when a client has no
  // `endpoint`, and config (tests, bench, chaos) may name endpoints that are not in process.env.
  const endpoint = serviceEndpoint(config, service);
  const local = endpoint !== undefined;
  return {
    region: config.awsRegion,
    endpoint,
    maxAttempts: 6,
    // Enough sockets for every consumer's long poll plus a burst of writes; a request that hangs
    // (an outage, a paused emulator) times out and is retried instead of waiting forever. The
    // timeout sits above the longest long poll (20 s). Node's agent already reuses the warmest socket
    // ('lifo') without Nagle (noDelay); a smaller maxSockets saves no syscall per call (issue 25,
    // docs/benchmarks.md "The SDK clients' options").
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
      connectionTimeout: 5000,
      requestTimeout: 30000,
      throwOnRequestTimeout: true,
    },
    // Local emulators accept any key; real AWS uses the default provider chain.
    ...(local && !process.env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }
      : {}),
  };
}

export function createAwsClients(config: AwsConfig): AwsClients {
  const ddb = new DynamoDBClient(clientConfig(config, 'dynamodb'));
  const sqs = new SQSClient(clientConfig(config, 'sqs'));
  // The emulator and DynamoDB Local answer DynamoDBStreams_20120810.* on DynamoDB's own endpoint.
  const streams = new DynamoDBStreamsClient(clientConfig(config, 'dynamodb'));
  // The document client shares ddb's middleware stack: what is attached to ddb later meters it too.
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  return { ddb, doc, streams, sqs };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.doc.destroy();
  clients.ddb.destroy();
  clients.streams.destroy();
  clients.sqs.destroy();
}
