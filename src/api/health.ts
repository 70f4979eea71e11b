/**
 * Health: DynamoDB and SQS are required (DOWN, HTTP 503, when either fails); Redis is optional
 * (DEGRADED, HTTP 200: the service works without its cache). Every probe has a short deadline so
 * a hung dependency cannot hang the health check.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../aws/clients';
import { tableStatus } from '../aws/table-status';
import type { ResourceNames } from '../infra/resources';
import type { RedisClient } from '../cache/redis';

export type ComponentStatus = 'UP' | 'DOWN';
export type OverallStatus = 'UP' | 'DEGRADED' | 'DOWN';

export interface ComponentHealth {
  status: ComponentStatus;
  /** Why it is DOWN. */
  error?: string;
}

export interface HealthReport {
  status: OverallStatus;
  components: { dynamodb: ComponentHealth; sqs: ComponentHealth; redis: ComponentHealth };
}

export interface HealthCheckOptions {
  /** Deadline per probe (ms). */
  timeoutMs?: number;
  redisTimeoutMs?: number;
}

export function overallStatus(components: HealthReport['components']): OverallStatus {
  if (components.dynamodb.status === 'DOWN' || components.sqs.status === 'DOWN') return 'DOWN';
  return components.redis.status === 'DOWN' ? 'DEGRADED' : 'UP';
}

export function createHealthCheck(
  clients: Pick<AwsClients, 'ddb' | 'sqs'>,
  redis: RedisClient,
  names: ResourceNames,
  options: HealthCheckOptions = {},
): () => Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const redisTimeoutMs = options.redisTimeoutMs ?? 250;
  let sagaQueueUrl: string | undefined;

  const dynamodb = () =>
    probe(timeoutMs, async (abortSignal) => {
      const status = await tableStatus(clients.ddb, names.tables.orders, abortSignal);
      if (status !== 'ACTIVE') throw new Error(`table ${names.tables.orders} is ${status ?? 'missing'}`);
    });

  const sqs = () =>
    probe(timeoutMs, async (abortSignal) => {
      if (sagaQueueUrl === undefined) {
        const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.queues.saga }), {
          abortSignal,
        });
        if (!QueueUrl) throw new Error(`queue ${names.queues.saga} not found`);
        sagaQueueUrl = QueueUrl;
      }
      await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: sagaQueueUrl, AttributeNames: ['QueueArn'] }), {
        abortSignal,
      });
    });

  const cache = () =>
    probe(redisTimeoutMs, async () => {
      if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`);
      const reply = await redis.ping();
      if (reply !== 'PONG') throw new Error(`unexpected PING reply ${String(reply)}`);
    });

  return async () => {
    const [d, s, r] = await Promise.all([dynamodb(), sqs(), cache()]);
    const components = { dynamodb: d, sqs: s, redis: r };
    return { status: overallStatus(components), components };
  };
}

async function probe(timeoutMs: number, check: (signal: AbortSignal) => Promise<void>): Promise<ComponentHealth> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([check(controller.signal), deadline]);
    return { status: 'UP' };
  } catch (error) {
    return { status: 'DOWN', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
