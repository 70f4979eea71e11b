/**
 * Deliberate migrations of open sagas between machine versions: one pure function per version
 * pair. Never run automatically: an operator runs `npm run migrate` (scripts/migrate.ts), which
 * records each migration as a MACHINE_MIGRATED Events row with who and why.
 *
 * A migration returns the snapshot as the target version would hold it, and the commands to send
 * so that the saga waits on what the target version would wait on in that state. It refuses
 * (MigrationRefusedError) a saga it cannot move faithfully, e.g. one that has ended.
 */
import type { PersistedSaga } from './decide';
import { FINAL_STATES } from './status';
import type { SagaCommand } from './types';
import { reminderDueAt } from './v3';

export interface MigrationResult {
  saga: PersistedSaga;
  /** Sent once the migration is recorded (they join the outbox too). */
  commands: SagaCommand[];
  /** What the migration did, for the audit row. */
  note: string;
}

export type Migration = (saga: PersistedSaga) => MigrationResult;

export class MigrationRefusedError extends Error {
  override readonly name: string = 'MigrationRefusedError';
}

function refuseEnded(saga: PersistedSaga): void {
  if (FINAL_STATES.includes(saga.state))
    throw new MigrationRefusedError(`the saga has ended (${saga.state}): there is nothing to migrate`);
}

/**
 * v2 → v3: same state and context. A saga awaiting payment gets the reminder v3 schedules on
 * entering that state (due before its hold ends; a due time already past fires at once, and the
 * reminder is then sent if the saga still awaits payment).
 */
export function migrateV2toV3(saga: PersistedSaga): MigrationResult {
  if (saga.machineVersion !== '2')
    throw new MigrationRefusedError(`v2 → v3 migrates version 2 sagas, not version ${saga.machineVersion}`);
  refuseEnded(saga);
  const context = { ...saga.context, holdReminderSent: false };
  const commands: SagaCommand[] = [];
  if (saga.state === 'awaitingPayment' && saga.context.reservation) {
    const orderId = saga.context.orderId;
    commands.push({
      kind: 'ScheduleHoldReminder',
      commandId: `${orderId}:ScheduleHoldReminder`,
      orderId,
      dueAt: reminderDueAt(saga.context),
    });
  }
  return {
    saga: { machineVersion: '3', state: saga.state, context, outbox: [...saga.outbox, ...commands] },
    commands,
    note: commands.length > 0 ? 'awaiting payment: hold reminder scheduled' : 'same state and context',
  };
}

/**
 * v3 → v2 (a rollback): same state; the reminder's flag and pending reminder commands dropped. A
 * reminder timer already queued then fires into v2, which ignores it.
 */
export function migrateV3toV2(saga: PersistedSaga): MigrationResult {
  if (saga.machineVersion !== '3')
    throw new MigrationRefusedError(`v3 → v2 migrates version 3 sagas, not version ${saga.machineVersion}`);
  refuseEnded(saga);
  const { holdReminderSent: _sent, ...context } = saga.context;
  const outbox = saga.outbox.filter((c) => c.kind !== 'ScheduleHoldReminder' && c.kind !== 'SendHoldReminder');
  return { saga: { machineVersion: '2', state: saga.state, context, outbox }, commands: [], note: 'reminder dropped' };
}

/** Every migration this build has, by `from->to`. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '2->3': migrateV2toV3,
  '3->2': migrateV3toV2,
};

/** The migration from one version to another. @throws MigrationRefusedError when there is none. */
export function migrationFor(from: string, to: string): Migration {
  const migration = MIGRATIONS[`${from}->${to}`];
  if (!migration)
    throw new MigrationRefusedError(
      `no migration from machine version ${from} to ${to} (this build has ${Object.keys(MIGRATIONS).join(', ')})`,
    );
  return migration;
}
