/**
 * The migrations between machine versions, pure: a v1 saga moved to v2 in any open state goes on
 * to the same ending as on v1 (with v2's reminder where it awaits payment); moving back restores
 * it; ended sagas and unknown pairs are refused.
 */
import {
  deciderOf,
  machineVersion,
  migrateV1toV2,
  migrateV2toV1,
  MigrationRefusedError,
  migrationFor,
  type PersistedSaga,
} from '../../machines/order-saga';
import { pathTraces, SAMPLE_INPUT } from '../../machines/order-saga/fingerprint';

/** Every open v1 snapshot along every v1 path, with the events that follow it on that path. */
function openV1Snapshots(): Array<{ saga: PersistedSaga; rest: ReturnType<typeof pathTraces>[number]['events']; trace: ReturnType<typeof pathTraces>[number] }> {
  const v1 = deciderOf('1');
  const found: Array<{ saga: PersistedSaga; rest: ReturnType<typeof pathTraces>[number]['events']; trace: ReturnType<typeof pathTraces>[number] }> = [];
  for (const trace of pathTraces(machineVersion('1'))) {
    let saga = v1.start(SAMPLE_INPUT).saga;
    trace.events.forEach((event, i) => {
      found.push({ saga, rest: trace.events.slice(i), trace });
      saga = v1.apply(saga, event).saga;
    });
  }
  return found;
}

it('v1 → v2 in every open state: the saga goes on to the ending it had on v1', () => {
  const snapshots = openV1Snapshots();
  expect(new Set(snapshots.map((s) => s.saga.state))).toEqual(
    new Set(['reserving', 'awaitingPayment', 'confirming', 'notifying', 'releasingSeats', 'settlingPayment', 'refunding']),
  );
  const v2 = deciderOf('2');
  for (const { saga, rest, trace } of snapshots) {
    const migrated = migrateV1toV2(saga);
    expect(migrated.saga).toMatchObject({ machineVersion: '2', state: saga.state });
    expect(migrated.commands.map((c) => c.kind)).toEqual(saga.state === 'awaitingPayment' ? ['ScheduleHoldReminder'] : []);
    expect(migrated.saga.outbox).toEqual([...saga.outbox, ...migrated.commands]);
    let next = migrated.saga;
    for (const event of rest) {
      const step = v2.apply(next, event);
      expect(step.changed).toBe(true);
      next = step.saga;
    }
    expect([next.state, next.context.outcome]).toEqual([trace.finalState, trace.outcome]);
  }
});

it('v1 → v2 → v1 gives back the v1 saga; the reminder left behind is dropped', () => {
  for (const { saga } of openV1Snapshots()) expect(migrateV2toV1(migrateV1toV2(saga).saga).saga).toEqual(saga);
});

it('refuses an ended saga, a saga of another version, and a pair with no migration', () => {
  const v1 = deciderOf('1');
  const failed = v1.apply(v1.start(SAMPLE_INPUT).saga, { type: 'SEATS_UNAVAILABLE', reason: 'sold out' }).saga;
  expect(() => migrateV1toV2(failed)).toThrow(new MigrationRefusedError('the saga has ended (failed): there is nothing to migrate'));
  expect(() => migrateV2toV1(v1.start(SAMPLE_INPUT).saga)).toThrow(MigrationRefusedError);
  expect(() => migrationFor('1', '3')).toThrow('no migration from machine version 1 to 3 (this build has 1->2, 2->1)');
  expect(migrationFor('1', '2')).toBe(migrateV1toV2);
});
