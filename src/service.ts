/**
 * The composition root: builds the store, dispatcher, runtime, participants, workers and sweeper
 * from a Config. main.ts runs it as a process; end-to-end tests run it in-process.
 */
import type { SagaCommand } from '../machines/order-saga';
import { createAwsClients, destroyAwsClients, type AwsClients } from './aws/clients';
import type { Config } from './config/config';
import { resourceNames, type ResourceNames } from './infra/resources';
import { injectDuplicateDeliveries } from './messaging/duplicate-delivery';
import { PoisonMessageError } from './messaging/errors';
import { resolveQueueUrls, type QueueUrls } from './messaging/queues';
import type { Logger } from './observability/logger';
import {
  handleParticipantCommand,
  PermanentCommandError,
  type ParticipantCommand,
  type ParticipantDeps,
} from './participants';
import { Dispatcher } from './runtime/dispatcher';
import { SagaRuntime } from './runtime/saga-runtime';
import { Sweeper } from './runtime/sweeper';
import { ALL_WORKER_ROLES, createWorkers, type ParticipantHandler, type WorkerRole, type Workers } from './runtime/workers';
import { SagaStore } from './store/saga-store';

export interface Core {
  config: Config;
  clients: AwsClients;
  names: ResourceNames;
  queues: QueueUrls;
  store: SagaStore;
  dispatcher: Dispatcher;
  runtime: SagaRuntime;
  participantDeps: ParticipantDeps;
  logger: Logger;
}

export interface CoreOptions {
  /** Cache invalidation hook for the inventory participant. */
  onInventoryChanged?: (eventId: string) => Promise<void>;
}

export async function createCore(config: Config, logger: Logger, options: CoreOptions = {}): Promise<Core> {
  const clients = createAwsClients(config);
  injectDuplicateDeliveries(clients.sqs, config.faultDuplicateRate);
  const names = resourceNames(config.resourcePrefix);
  const queues = await resolveQueueUrls(clients.sqs, names);
  const store = new SagaStore(clients.doc, names.tables);
  const dispatcher = new Dispatcher(clients.sqs, queues);
  const runtime = new SagaRuntime({ store, dispatcher, logger, holdSeconds: config.holdSeconds });
  const participantDeps: ParticipantDeps = {
    doc: clients.doc,
    tables: names.tables,
    logger,
    paymentSlowMs: config.paymentSlowMs,
    onInventoryChanged: options.onInventoryChanged,
  };
  return { config, clients, names, queues, store, dispatcher, runtime, participantDeps, logger };
}

/** A participant handler whose impossible commands go straight to the DLQ. */
function participantHandler(deps: ParticipantDeps): ParticipantHandler {
  return async (command: SagaCommand) => {
    try {
      return await handleParticipantCommand(command as ParticipantCommand, deps);
    } catch (error) {
      if (error instanceof PermanentCommandError) throw new PoisonMessageError(error.message);
      throw error;
    }
  };
}

export function createCoreWorkers(core: Core, roles: WorkerRole[] = ALL_WORKER_ROLES): Workers {
  const handler = participantHandler(core.participantDeps);
  return createWorkers(
    {
      sqs: core.clients.sqs,
      queues: core.queues,
      config: core.config,
      logger: core.logger,
      runtime: core.runtime,
      dispatcher: core.dispatcher,
      participants: { inventory: handler, payment: handler, notification: handler },
    },
    roles,
  );
}

export function createCoreSweeper(core: Core): Sweeper {
  return new Sweeper({
    doc: core.clients.doc,
    tables: core.names.tables,
    store: core.store,
    dispatcher: core.dispatcher,
    logger: core.logger,
    stalledAfterMs: core.config.stalledAfterMs,
    intervalMs: core.config.sweepIntervalMs,
  });
}

export function closeCore(core: Core): void {
  destroyAwsClients(core.clients);
}
