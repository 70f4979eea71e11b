import { marshall } from '@aws-sdk/util-dynamodb';
import { applyEvent, startSaga } from '../machines/order-saga';
import { itemSize } from '../src/observability/cost-meter';
import { packOrderItem } from '../src/store/order-item';
const orderId = 'd5bb04d3-1b73-832a-8b19-8fa48c43ac5f';
const input = { orderId, customerId: 'cus_0123456789abcdef01234567', eventId: 'ev-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', items: [{ ticketType: 'GA', quantity: 2 }], paymentToken: 'tok_success', holdSeconds: 600 };
let d = startSaga(input);
const now = new Date().toISOString();
const base: any = { ...input, status: d.status, totalAmountMinor: null, currency: null, createdAt: now, updatedAt: now, correlationId: '88c3c7f8-98ff-4fa8-b874-75b27a72dbc9', requestHash: 'f'.repeat(64), orderNumber: 'ET-2026-000013', eventName: 'The Long Night Tour: Wembley, London 2027', createdKey: `${now}#${orderId}`, sagaVersion: 1, appliedEventIds: [':ORDER_PLACED'], stateEnteredAt: now };
delete base.paymentToken; delete base.holdSeconds;
const show = (label: string, saga: any) => {
  const item = packOrderItem({ ...base, saga, sagaState: saga.state });
  console.log(label.padEnd(22), itemSize(marshall(item, { removeUndefinedValues: true }) as any), 'outbox', JSON.stringify(saga.outbox).length, JSON.stringify(saga.outbox).slice(0, 300));
};
show('placed', d.saga);
const events: any[] = [
  ['reserved', { type: 'SEATS_RESERVED', reservationId: orderId, expiresAt: now, amountMinor: 9900, currency: 'EUR' }, ':ReserveSeats:reply'],
  ['paid', { type: 'PAYMENT_CAPTURED', paymentId: `ch_${orderId}`, amountMinor: 9900, currency: 'EUR' }, ':ChargePayment:reply'],
  ['confirmed', { type: 'SEATS_CONFIRMED' }, ':ConfirmSeats:reply'],
  ['notified', { type: 'NOTIFICATION_SENT', notificationId: 'x' }, ':SendNotification:reply'],
];
for (const [label, ev, id] of events) {
  d = applyEvent(d.saga, ev) as any;
  base.appliedEventIds = [...base.appliedEventIds, id];
  if (ev.amountMinor) { base.totalAmountMinor = 9900; base.currency = 'EUR'; }
  show(label, d.saga);
}
