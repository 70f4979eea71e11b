/**
 * The SQS consumers of one worker process: the saga itself (FIFO, one group per order), the
 * durable timers, and the three participants. Each participant is a handler `command → reply`;
 * the reply goes back into the saga's FIFO group with a deterministic id, so a re-delivered
 * command produces the same reply and the saga sees it once.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { OrderSagaEvent, SagaCommand } from '../../machines/order-saga';
import type { Config } from '../config/config';
import type { QueueKey } from '../infra/resources';
import { QueueConsumer, type ConsumerObserver } from '../messaging/consumer';
import { parseCommandEnvelope, parseSagaEventEnvelope, parseTimerEnvelope } from '../messaging/envelopes';
import { PoisonMessageError } from '../messaging/errors';
import type { QueueUrls } from '../messaging/queues';
import type { Logger } from '../observability/logger';
import { crashPoint } from '../fault-injection/crash-points';
import type { Dispatcher } from './dispatcher';
import { QUEUE_FOR_COMMAND, replyEventId } from './routing';
import type { SagaRuntime } from './saga-runtime';

export type ParticipantHandler = (command: SagaCommand, correlationId: string) => Promise<OrderSagaEvent>;
export type ParticipantKey = Extract<QueueKey, 'inventory' | 'payment' | 'notification'>;
export type ParticipantHandlers = Record<ParticipantKey, ParticipantHandler>;

export interface WorkerDeps {
  sqs: SQSClient;
  queues: QueueUrls;
  config: Pick<Config, 'workerConcurrency' | 'receiveWaitSeconds' | 'maxReceives' | 'messageLeaseSeconds'>;
  logger: Logger;
  runtime: SagaRuntime;
  dispatcher: Dispatcher;
  participants: ParticipantHandlers;
  now?: () => Date;
  /** Metrics: message ages and handler errors. */
  observer?: ConsumerObserver;
}

export type WorkerRole = 'saga' | 'timer' | ParticipantKey;
export const ALL_WORKER_ROLES: WorkerRole[] = ['saga', 'timer', 'inventory', 'payment', 'notification'];

export interface Workers {
  start(): void;
  /** Graceful: stop receiving, finish what is in flight. */
  stop(): Promise<void>;
}

export function createWorkers(deps: WorkerDeps, roles: WorkerRole[] = ALL_WORKER_ROLES): Workers {
  const consumers = roles.map((role) =>
    role === 'saga' ? sagaConsumer(deps) : role === 'timer' ? timerConsumer(deps) : participantConsumer(deps, role),
  );
  return {
    start: () => consumers.forEach((c) => c.start()),
    stop: async () => {
      await Promise.all(consumers.map((c) => c.stop()));
    },
  };
}

function common(deps: WorkerDeps, role: WorkerRole) {
  return {
    name: role,
    sqs: deps.sqs,
    queueUrl: deps.queues[role],
    dlqUrl: deps.queues.dlq,
    concurrency: deps.config.workerConcurrency,
    waitSeconds: deps.config.receiveWaitSeconds,
    maxReceives: deps.config.maxReceives,
    leaseSeconds: deps.config.messageLeaseSeconds,
    logger: deps.logger,
    observer: deps.observer,
  };
}

function sagaConsumer(deps: WorkerDeps) {
  return new QueueConsumer({
    ...common(deps, 'saga'),
    parse: parseSagaEventEnvelope,
    handle: async (envelope, message) => {
      await deps.runtime.deliver(envelope.orderId, envelope.eventId, envelope.event, message.receiveCount);
    },
  });
}

/** A timer message that is not yet due hops again (SQS delays at most 15 minutes). */
function timerConsumer(deps: WorkerDeps) {
  const now = deps.now ?? (() => new Date());
  return new QueueConsumer({
    ...common(deps, 'timer'),
    parse: parseTimerEnvelope,
    handle: async (timer) => {
      if (Date.parse(timer.dueAt) - now().getTime() > 1000) await deps.dispatcher.sendTimer(timer);
      else await deps.dispatcher.sendSagaEvent(timer.orderId, timer.eventId, timer.event, timer.correlationId);
    },
  });
}

function participantConsumer(deps: WorkerDeps, role: ParticipantKey) {
  const handler = deps.participants[role];
  return new QueueConsumer({
    ...common(deps, role),
    parse: parseCommandEnvelope,
    handle: async ({ command, correlationId }) => {
      if (QUEUE_FOR_COMMAND[command.kind] !== role) {
        throw new PoisonMessageError(`${command.kind} does not belong on the ${role} queue`);
      }
      const reply = await handler(command, correlationId);
      crashPoint(`after-effect:${command.kind}`);
      await deps.dispatcher.sendSagaEvent(command.orderId, replyEventId(command.commandId), reply, correlationId);
    },
  });
}
