/**
 * The one history fold (machines/order-saga/history.ts), pure: which Events rows are machine
 * events, the event each carries, and the version order the console's and the operator's replays
 * both walk.
 */
import { historySteps, isMachineEventType, machineEventOf } from '../../machines/order-saga';

const row = (version: number, eventType: string, payload: Record<string, unknown> = {}) => ({
  version,
  eventType,
  payload,
});

it('tells machine events from the rows that only record (placed, an operator retry, a migration)', () => {
  expect(isMachineEventType('SEATS_RESERVED')).toBe(true);
  expect(isMachineEventType('PAYMENT_DECLINED')).toBe(true);
  for (const recordOnly of ['ORDER_PLACED', 'OPERATOR_RETRY', 'MACHINE_MIGRATED', 'toString', '__proto__'])
    expect(isMachineEventType(recordOnly)).toBe(false);
});

it('walks the history in version order, each row with the event it carries (its payload, its type)', () => {
  const steps = historySteps([
    row(3, 'PAYMENT_DECLINED', { reason: 'no' }),
    row(1, 'ORDER_PLACED', { customerId: 'c1' }),
    row(4, 'OPERATOR_RETRY', { reason: 'ops' }),
    row(2, 'SEATS_RESERVED', { reservationId: 'o1', amountMinor: 500 }),
  ]);
  expect(steps.map((s) => s.row.version)).toEqual([1, 2, 3, 4]);
  expect(steps.map((s) => s.event)).toEqual([
    null,
    { type: 'SEATS_RESERVED', reservationId: 'o1', amountMinor: 500 },
    { type: 'PAYMENT_DECLINED', reason: 'no' },
    null,
  ]);
  expect(machineEventOf(row(5, 'ORDER_PLACED'))).toBeNull();
});
