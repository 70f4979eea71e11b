/**
 * The migrations between machine versions, pure: a v2 saga moved to v3 in any open state goes on
 * to the same ending as on v2 (with v3's reminder where it awaits payment); moving back restores
 * it; ended sagas and unknown pairs are refused.
 */
import {
  deciderOf,
  machineVersion,
  migrateV2toV3,
  migrateV3toV2,
  MigrationRefusedError,
  migrationFor,
  type PersistedSaga,
} from '../../machines/order-saga';
import { pathTraces, SAMPLE_INPUT } from '../../tools/fingerprint';

/** Every open v2 snapshot along every v2 path, with the events that follow it on that path. */
function openV2Snapshots(): Array<{
  saga: PersistedSaga;
  rest: ReturnType<typeof pathTraces>[number]['events'];
  trace: ReturnType<typeof pathTraces>[number];
}> {
  const v2 = deciderOf('2');
  const found: Array<{
    saga: PersistedSaga;
    rest: ReturnType<typeof pathTraces>[number]['events'];
    trace: ReturnType<typeof pathTraces>[number];
  }> = [];
  for (const trace of pathTraces(machineVersion('2'))) {
    let saga = v2.start(SAMPLE_INPUT).saga;
    trace.events.forEach((event, i) => {
      found.push({ saga, rest: trace.events.slice(i), trace });
      saga = v2.apply(saga, event).saga;
    });
  }
  return found;
}

it('v2 → v3 in every open state: the saga goes on to the ending it had on v2', () => {
  const snapshots = openV2Snapshots();
  expect(new Set(snapshots.map((s) => s.saga.state))).toEqual(
    new Set([
      'reserving',
      'awaitingPayment',
      'confirming',
      'notifying',
      'releasingSeats',
      'settlingPayment',
      'refunding',
    ]),
  );
  const v3 = deciderOf('3');
  for (const { saga, rest, trace } of snapshots) {
    const migrated = migrateV2toV3(saga);
    expect(migrated.saga).toMatchObject({ machineVersion: '3', state: saga.state });
    expect(migrated.commands.map((c) => c.kind)).toEqual(
      saga.state === 'awaitingPayment' ? ['ScheduleHoldReminder'] : [],
    );
    expect(migrated.saga.outbox).toEqual([...saga.outbox, ...migrated.commands]);
    let next = migrated.saga;
    for (const event of rest) {
      const step = v3.apply(next, event);
      expect(step.changed).toBe(true);
      next = step.saga;
    }
    expect([next.state, next.context.outcome]).toEqual([trace.finalState, trace.outcome]);
  }
});

it('v2 → v3 → v2 gives back the v2 saga; the reminder left behind is dropped', () => {
  for (const { saga } of openV2Snapshots()) expect(migrateV3toV2(migrateV2toV3(saga).saga).saga).toEqual(saga);
});

it('refuses an ended saga, a saga of another version, and a pair with no migration', () => {
  const v2 = deciderOf('2');
  const failed = v2.apply(v2.start(SAMPLE_INPUT).saga, { type: 'SEATS_UNAVAILABLE', reason: 'sold out' }).saga;
  expect(() => migrateV2toV3(failed)).toThrow(
    new MigrationRefusedError('the saga has ended (failed): there is nothing to migrate'),
  );
  expect(() => migrateV3toV2(v2.start(SAMPLE_INPUT).saga)).toThrow(MigrationRefusedError);
  expect(() => migrationFor('2', '4')).toThrow('no migration from machine version 2 to 4 (this build has 2->3, 3->2)');
  expect(migrationFor('2', '3')).toBe(migrateV2toV3);
});
