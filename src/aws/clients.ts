/**
 * The AWS SDK clients. The same code talks to the emulator, LocalStack or AWS: only the endpoint
 * differs. The SDK's standard retry mode already retries throttling, 5xx and network errors with
 * backoff. A cost meter (observability/cost-meter.ts) counts every call, asks DynamoDB for its
 * consumed capacity and prices it, so benchmarks and /metrics read real requests, not estimates.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config/config';
import { CostMeter } from '../observability/cost-meter';

export interface AwsClients {
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** Requests, capacity units and dollars of every call these clients made. */
  meter: CostMeter;
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
    // timeout sits above the longest long poll (20 s).
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
  const meter = new CostMeter();
  meter.attachDynamoDb(ddb);
  meter.attachSqs(sqs);
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  return { ddb, doc, sqs, meter };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.doc.destroy();
  clients.ddb.destroy();
  clients.sqs.destroy();
}
