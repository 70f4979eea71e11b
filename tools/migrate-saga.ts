/**
 * An operator moves an open saga to another machine version: the pair's pure migration
 * (machines/order-saga/migrations.ts), committed like a step — conditional on the saga's version,
 * with a MACHINE_MIGRATED Events row that records who, why, from and to — then the commands the
 * target version waits on are sent. Never automatic: only scripts/migrate.ts calls it.
 */
import { randomUUID } from 'node:crypto';
import { migrationFor, orderStatusOf, type MigrationResult } from '../machines/order-saga';
import type { Dispatcher } from '../src/runtime/dispatcher';
import { UnknownSagaError } from '../src/runtime/saga-runtime';
import { VersionConflictError, type SagaStore, type StoredSaga } from '../src/store/saga-store';
import { MIGRATION_EVENT_TYPE } from '../src/ops/replay';
import type { OperatorRequest } from '../src/ops/stuck-sagas';

export interface MigrateDeps {
  store: SagaStore;
  dispatcher: Dispatcher;
  now?: () => Date;
}

export interface MigrationOutcome {
  orderId: string;
  from: string;
  to: string;
  state: string;
  note: string;
  /** False for a dry run: nothing written, nothing sent. */
  applied: boolean;
  saga?: StoredSaga;
}

const MAX_CONFLICT_RETRIES = 20;

/**
 * Migrates one saga to `to`. Throws UnknownSagaError (no such saga) or MigrationRefusedError
 * (no migration for the pair, or the saga cannot be moved: it has ended, it is already there).
 */
export async function migrateSaga(
  deps: MigrateDeps,
  orderId: string,
  to: string,
  operator: OperatorRequest,
  dryRun = false,
): Promise<MigrationOutcome> {
  const now = deps.now ?? (() => new Date());
  for (let attempt = 1; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
    const stored = await deps.store.load(orderId);
    if (!stored) throw new UnknownSagaError(`no saga for order ${orderId}`);
    const from = stored.saga.machineVersion;
    const result: MigrationResult = migrationFor(from, to)(stored.saga);
    const outcome = { orderId, from, to, state: result.saga.state, note: result.note };
    if (dryRun) return { ...outcome, applied: false };
    try {
      const saga = await deps.store.commit(
        stored,
        { saga: result.saga, status: orderStatusOf(result.saga.state), commands: result.commands },
        {
          eventId: `operator:migrate:${randomUUID()}`,
          eventType: MIGRATION_EVENT_TYPE,
          payload: { from, to, by: operator.by, reason: operator.reason, note: result.note },
          actor: operator.by,
        },
        now().toISOString(),
      );
      await deps.dispatcher.sendCommands(result.commands, stored.correlationId);
      return { ...outcome, applied: true, saga };
    } catch (error) {
      if (error instanceof VersionConflictError) continue; // the saga moved: migrate what it is now
      throw error;
    }
  }
  throw new Error(`saga ${orderId}: gave up migrating after ${MAX_CONFLICT_RETRIES} version conflicts`);
}
