/**
 * Machine versions side by side: the registry, a saga deciding on its own version, each released
 * version frozen by its behaviour fingerprint, and every version's paths pinned (v2's stories are
 * told in order-saga.paths.test.ts; here their count, and v3's stories and count).
 */
import {
  applyEvent,
  deciderFor,
  knownMachineVersions,
  MACHINE_VERSIONS,
  machineVersion,
  orderSagaMachine,
  reminderDueAt,
  START_VERSION,
  startSaga,
  UnknownMachineVersionError,
  type SagaCommand,
} from '../../machines/order-saga';
import { behaviourFingerprint, pathTraces, SAMPLE_INPUT } from '../../tools/fingerprint';
import { RESERVED_O1 } from '../support/saga-samples';

const reserved = RESERVED_O1;
const input = { ...SAMPLE_INPUT, orderId: 'o1' };

/** The path counts, pinned per version: a graph that grows or shrinks unannounced fails here. */
const PATH_COUNTS: Record<string, number> = { '2': 18, '3': 27 };

/** v3 = v2's fourteen stories, plus each story through awaitingPayment told once more with the reminder in it. */
const V3_REMINDER_STORIES = [
  'cancelled/declined: SEATS_RESERVED → HOLD_REMINDER_DUE → PAYMENT_DECLINED → SEATS_RELEASED',
  'completed/completed: SEATS_RESERVED → HOLD_REMINDER_DUE → PAYMENT_CAPTURED → SEATS_CONFIRMED → NOTIFICATION_SENT',
  'cancelled/expired: SEATS_RESERVED → HOLD_REMINDER_DUE → HOLD_EXPIRED → SEATS_RELEASED → PAYMENT_DECLINED',
  'cancelled/cancelled: SEATS_RESERVED → HOLD_REMINDER_DUE → CANCEL_REQUESTED → SEATS_RELEASED → PAYMENT_DECLINED',
  'cancelled/compensated: SEATS_RESERVED → HOLD_REMINDER_DUE → OPERATOR_COMPENSATE → SEATS_RELEASED → PAYMENT_DECLINED',
  'cancelled/compensated: SEATS_RESERVED → HOLD_REMINDER_DUE → PAYMENT_CAPTURED → OPERATOR_COMPENSATE → SEATS_RELEASED → REFUND_ISSUED',
  'cancelled/compensated: SEATS_RESERVED → HOLD_REMINDER_DUE → OPERATOR_COMPENSATE → SEATS_RELEASED → PAYMENT_CAPTURED → REFUND_ISSUED',
  'cancelled/expired: SEATS_RESERVED → HOLD_REMINDER_DUE → HOLD_EXPIRED → SEATS_RELEASED → PAYMENT_CAPTURED → REFUND_ISSUED',
  'cancelled/cancelled: SEATS_RESERVED → HOLD_REMINDER_DUE → CANCEL_REQUESTED → SEATS_RELEASED → PAYMENT_CAPTURED → REFUND_ISSUED',
];

describe('the machine registry', () => {
  it('knows versions 1 and 2, v2 being machine.ts; new orders start on START_VERSION', () => {
    expect(knownMachineVersions()).toEqual(['2', '3']);
    expect(machineVersion('2').machine).toBe(orderSagaMachine);
    expect(knownMachineVersions()).toContain(START_VERSION);
    expect(startSaga(input).saga.machineVersion).toBe(START_VERSION);
  });

  it('refuses a version it does not have, naming the ones it has', () => {
    expect(() => machineVersion('4')).toThrow(UnknownMachineVersionError);
    expect(() => machineVersion('4')).toThrow('order-saga machine version 4 is not in this build (it knows 2, 3)');
    expect(() => startSaga(input, '4')).toThrow(UnknownMachineVersionError);
  });

  it('a saga decides on the version it started on, whatever the start version is now', () => {
    const onV1 = applyEvent(startSaga(input, '2').saga, reserved);
    const onV2 = applyEvent(startSaga(input, '3').saga, reserved);
    expect(onV1.saga.machineVersion).toBe('2');
    expect(onV2.saga.machineVersion).toBe('3');
    expect(onV1.commands.map((c: SagaCommand) => c.kind)).toEqual(['ChargePayment', 'ScheduleHoldExpiry']);
    expect(onV2.commands.map((c: SagaCommand) => c.kind)).toEqual([
      'ChargePayment',
      'ScheduleHoldExpiry',
      'ScheduleHoldReminder',
    ]);
  });

  it('a decider refuses a snapshot of another version instead of misreading it', () => {
    const v3 = deciderFor(machineVersion('3'));
    expect(() => v3.apply(startSaga(input, '2').saga, reserved)).toThrow(
      'a version 2 saga was handed to the version 3 machine',
    );
  });
});

describe('released versions are frozen', () => {
  const released = MACHINE_VERSIONS.filter((v) => v.releasedFingerprint !== null);

  it.each(released.map((v) => [v.version, v] as const))(
    'v%s behaves exactly as when it was released (pinned fingerprint)',
    (_version, entry) => {
      // A failure here means a released machine changed: sagas open on it would now behave
      // differently. Ship the change as a new version instead (docs/versioning.md). Re-pin only a
      // version that has never run in production.
      expect(behaviourFingerprint(entry)).toBe(entry.releasedFingerprint);
    },
  );

  it('v2 and v3 are released; a version not yet released gets its fingerprint printed for pinning', () => {
    expect(released.map((v) => v.version)).toEqual(expect.arrayContaining(['2', '3']));
    for (const entry of MACHINE_VERSIONS.filter((v) => v.releasedFingerprint === null)) {
      const fingerprint = behaviourFingerprint(entry);
      console.info(
        `machine v${entry.version} is not released yet; pin releasedFingerprint: '${fingerprint}' once it runs anywhere`,
      );
      expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe('every version’s paths', () => {
  it.each(Object.entries(PATH_COUNTS))(
    'v%s has its pinned number of paths, each ending in a final state',
    (version, count) => {
      const traces = pathTraces(machineVersion(version));
      expect(traces).toHaveLength(count);
      for (const t of traces) expect(['completed', 'cancelled', 'failed']).toContain(t.finalState);
    },
  );

  it('v3 tells v2’s stories, and each one through awaitingPayment once more with the reminder', () => {
    const v2 = pathTraces(machineVersion('2')).map((t) => t.story);
    const v3 = pathTraces(machineVersion('3')).map((t) => t.story);
    expect([...v3].sort()).toEqual([...v2, ...V3_REMINDER_STORIES].sort());
  });

  it('v3 schedules the reminder on every path that awaits payment, and sends it once, only when it fired', () => {
    for (const trace of pathTraces(machineVersion('3'))) {
      const sent = trace.steps.flatMap((s) => s.commands);
      const kinds = sent.map((c) => c.kind);
      const awaited = trace.steps.some((s) => s.state === 'awaitingPayment');
      expect(kinds.filter((k) => k === 'ScheduleHoldReminder')).toHaveLength(awaited ? 1 : 0);
      const fired = trace.events.some((e) => e.type === 'HOLD_REMINDER_DUE');
      expect(sent.filter((c) => c.kind === 'SendHoldReminder')).toEqual(
        fired
          ? [
              expect.objectContaining({
                commandId: 'order-1:SendHoldReminder',
                template: 'hold-reminder',
                customerId: 'customer-1',
              }),
            ]
          : [],
      );
      // The final notice is still sent once, with its own command id.
      expect(sent.filter((c) => c.kind === 'SendNotification')).toHaveLength(1);
    }
  });

  it('v3: the reminder is due 120 s before the hold ends, or half-way for a short hold; a second firing is ignored', () => {
    const atStart = startSaga({ ...input, holdSeconds: 600 }, '3');
    const waiting = applyEvent(atStart.saga, reserved);
    expect(waiting.commands.find((c) => c.kind === 'ScheduleHoldReminder')).toMatchObject({
      dueAt: '2026-11-25T09:58:00.000Z',
    });
    expect(reminderDueAt({ ...waiting.saga.context, holdSeconds: 10 })).toBe('2026-11-25T09:59:55.000Z');
    const reminded = applyEvent(waiting.saga, { type: 'HOLD_REMINDER_DUE' });
    expect(reminded.changed).toBe(true);
    expect(reminded.saga.state).toBe('awaitingPayment');
    expect(reminded.commands).toEqual([
      {
        kind: 'SendHoldReminder',
        commandId: 'o1:SendHoldReminder',
        orderId: 'o1',
        customerId: 'customer-1',
        template: 'hold-reminder',
        expiresAt: reserved.expiresAt,
      },
    ]);
    expect(applyEvent(reminded.saga, { type: 'HOLD_REMINDER_DUE' }).changed).toBe(false);
    // The reminder's answer is nobody's business, and never mistaken for the final notice's.
    expect(
      applyEvent(reminded.saga, { type: 'HOLD_REMINDER_SENT', notificationId: 'o1:SendHoldReminder' }).changed,
    ).toBe(false);
  });
});
