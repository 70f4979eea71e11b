/**
 * The saga as pure functions: what the runtime persists (snapshot + outbox) and sends (commands)
 * for each event, with no AWS in sight.
 */
import {
  accepts,
  applyEvent,
  startSaga,
  UnknownMachineVersionError,
  type PersistedSaga,
} from '../../machines/order-saga';
import { SAMPLE_INPUT } from '../../tools/fingerprint';
import { RESERVED_O1 } from '../support/saga-samples';

// The shared sample order (2 × GA, tok_success, a 60-s hold) under short ids, for readable expectations.
const start = () => startSaga({ ...SAMPLE_INPUT, orderId: 'o1', customerId: 'c1', eventId: 'e1' });
const reserved = RESERVED_O1;

describe('deciding a saga step', () => {
  it('starts in reserving, PENDING, asking for the seats with a deterministic command id', () => {
    const d = start();
    expect(d.saga.state).toBe('reserving');
    expect(d.status).toBe('PENDING');
    expect(d.commands).toEqual([
      {
        kind: 'ReserveSeats',
        commandId: 'o1:ReserveSeats',
        orderId: 'o1',
        eventId: 'e1',
        items: [{ ticketType: 'GA', quantity: 2 }],
        holdSeconds: 60,
      },
    ]);
    expect(d.saga.outbox).toEqual(d.commands);
  });

  it('entering a state replaces the outbox with that state’s commands: the charge and the hold timer', () => {
    const d = applyEvent(start().saga, reserved);
    expect(d.changed).toBe(true);
    expect(d.status).toBe('PROCESSING');
    expect(d.commands.map((c) => c.kind)).toEqual(['ChargePayment', 'ScheduleHoldExpiry']);
    expect(d.commands[0]).toMatchObject({ amountMinor: 5000, currency: 'EUR', paymentToken: 'tok_success' });
    expect(d.commands[1]).toMatchObject({ dueAt: '2026-11-25T10:00:00.000Z' });
    expect(d.saga.outbox).toEqual(d.commands);
  });

  it('a cancel while reserving is remembered without a command; the outbox still holds ReserveSeats', () => {
    const d = applyEvent(start().saga, { type: 'CANCEL_REQUESTED', by: 'customer:c1', reason: 'oops' });
    expect(d.changed).toBe(true);
    expect(d.commands).toEqual([]);
    expect(d.saga.state).toBe('reserving');
    expect(d.saga.outbox.map((c) => c.kind)).toEqual(['ReserveSeats']);
    expect(accepts(d.saga, { type: 'CANCEL_REQUESTED', by: 'customer:c1', reason: 'again' })).toBe(false);
  });

  it('an event the state does not expect changes nothing (a late or duplicate reply)', () => {
    const waiting = applyEvent(start().saga, reserved).saga;
    const late = applyEvent(waiting, reserved);
    expect(late.changed).toBe(false);
    expect(late.commands).toEqual([]);
    expect(late.saga).toEqual(waiting);
  });

  it('an operator compensating a paid order in confirming: release the seats (sold or not), then refund the capture', () => {
    let saga = applyEvent(start().saga, reserved).saga;
    saga = applyEvent(saga, { type: 'PAYMENT_CAPTURED', paymentId: 'ch_o1', amountMinor: 5000, currency: 'EUR' }).saga;
    expect(saga.state).toBe('confirming');
    const compensating = applyEvent(saga, {
      type: 'OPERATOR_COMPENSATE',
      by: 'operator:ann',
      reason: 'confirm keeps failing',
    });
    expect(compensating.status).toBe('PROCESSING');
    expect(compensating.commands).toEqual([
      { kind: 'ReleaseSeats', commandId: 'o1:ReleaseSeats', orderId: 'o1', reservationId: 'o1', releaseAs: 'RELEASED' },
    ]);
    // A late SEATS_CONFIRMED changes nothing now: the release decides.
    expect(applyEvent(compensating.saga, { type: 'SEATS_CONFIRMED' }).changed).toBe(false);
    const refunding = applyEvent(compensating.saga, { type: 'SEATS_RELEASED' });
    expect(refunding.saga.state).toBe('refunding');
    expect(refunding.commands).toEqual([
      {
        kind: 'RefundPayment',
        commandId: 'o1:RefundPayment',
        orderId: 'o1',
        paymentId: 'ch_o1',
        amountMinor: 5000,
        currency: 'EUR',
      },
    ]);
    const done = applyEvent(refunding.saga, { type: 'REFUND_ISSUED', refundId: 'rf_o1', amountMinor: 5000 });
    expect(done.status).toBe('CANCELLED');
    expect(done.saga.context.outcome).toBe('compensated');
  });

  it('a snapshot written by an unknown machine version fails fast', () => {
    const alien: PersistedSaga = { ...start().saga, machineVersion: '0' };
    expect(() => applyEvent(alien, reserved)).toThrow(UnknownMachineVersionError);
  });
});
