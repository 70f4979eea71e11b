/**
 * The AWS SDK clients. The same code talks to the emulator, LocalStack or AWS: only the endpoint
 * differs. The SDK's standard retry mode already retries throttling, 5xx and network errors with
 * backoff; a request counter middleware lets benchmarks count real requests, not estimates.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config/config';

export interface AwsClients {
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** Requests sent, by `Service.Operation`. */
  requestCounts: Map<string, number>;
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
  const requestCounts = new Map<string, number>();
  const ddb = new DynamoDBClient(clientConfig(config, 'dynamodb'));
  const sqs = new SQSClient(clientConfig(config, 'sqs'));
  const count = (service: string, commandName: unknown): void => {
    const key = `${service}.${String(commandName ?? 'unknown').replace(/Command$/, '')}`;
    requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
  };
  const step = { step: 'finalizeRequest', name: 'eventticketRequestCounter' } as const;
  ddb.middlewareStack.add((next, context) => (args) => (count('DynamoDB', context.commandName), next(args)), step);
  sqs.middlewareStack.add((next, context) => (args) => (count('SQS', context.commandName), next(args)), step);
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  return { ddb, doc, sqs, requestCounts };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.doc.destroy();
  clients.ddb.destroy();
  clients.sqs.destroy();
}
