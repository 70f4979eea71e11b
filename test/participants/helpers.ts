/** Shared set-up for the participant specs: deps over a TestAws, command builders, invariants. */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { OrderItem } from '../../machines/order-saga/types';
import { createLogger } from '../../src/observability/logger';
import type {
  ChargePayment,
  ConfirmSeats,
  RefundPayment,
  ReleaseSeats,
  ReserveSeats,
  SendNotification,
  VoidPayment,
} from '../../src/participants/commands';
import type { ParticipantDeps } from '../../src/participants/deps';
import { InventoryCatalog } from '../../src/participants/inventory-catalog';
import type { InventoryRow, ReservationRecord } from '../../src/participants/records';
import type { TestAws } from '../support/aws';

export const FIXED_NOW = new Date('2030-01-01T12:00:00.000Z');

/**
 * One kept catalog for every call of a spec file, as one worker keeps it (src/service.ts): the specs
 * run the reserve's blind way on kept prices, and every price or type an admin PUT changes meanwhile
 * must be caught by the transaction's condition. A spec that wants the rows read passes
 * `catalog: undefined`.
 */
export const sharedCatalog = new InventoryCatalog();

export interface Recorder {
  changedEvents: string[];
  sleeps: number[];
}

export function participantDeps(
  aws: TestAws,
  overrides: Partial<ParticipantDeps> = {},
): ParticipantDeps & { recorder: Recorder } {
  const recorder: Recorder = { changedEvents: [], sleeps: [] };
  return {
    doc: aws.clients.doc,
    tables: aws.names.tables,
    logger: createLogger('error'),
    paymentSlowMs: 50,
    catalog: sharedCatalog,
    onInventoryChanged: async (eventId) => {
      recorder.changedEvents.push(eventId);
    },
    sleep: async (ms) => {
      recorder.sleeps.push(ms);
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    ...overrides,
    recorder,
  };
}

let counter = 0;
/** A unique id per call, readable in failures: `order-3-k2j4`. */
export function uid(label: string): string {
  counter += 1;
  return `${label}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

export const reserve = (orderId: string, eventId: string, items: OrderItem[], holdSeconds = 600): ReserveSeats => ({
  kind: 'ReserveSeats',
  commandId: `${orderId}:ReserveSeats`,
  orderId,
  eventId,
  items,
  holdSeconds,
});
export const confirm = (orderId: string, reservationId = orderId): ConfirmSeats => ({
  kind: 'ConfirmSeats',
  commandId: `${orderId}:ConfirmSeats`,
  orderId,
  reservationId,
});
export const release = (
  orderId: string,
  releaseAs: 'RELEASED' | 'EXPIRED' = 'RELEASED',
  reservationId = orderId,
): ReleaseSeats => ({
  kind: 'ReleaseSeats',
  commandId: `${orderId}:ReleaseSeats`,
  orderId,
  reservationId,
  releaseAs,
});
export const charge = (orderId: string, paymentToken: string, amountMinor = 5000, currency = 'EUR'): ChargePayment => ({
  kind: 'ChargePayment',
  commandId: `${orderId}:ChargePayment`,
  orderId,
  amountMinor,
  currency,
  paymentToken,
});
export const voidPayment = (orderId: string): VoidPayment => ({
  kind: 'VoidPayment',
  commandId: `${orderId}:VoidPayment`,
  orderId,
});
export const refund = (
  orderId: string,
  amountMinor = 5000,
  currency = 'EUR',
  paymentId = `ch_${orderId}`,
): RefundPayment => ({
  kind: 'RefundPayment',
  commandId: `${orderId}:RefundPayment`,
  orderId,
  paymentId,
  amountMinor,
  currency,
});
export const notify = (orderId: string, customerId = 'cust-1'): SendNotification => ({
  kind: 'SendNotification',
  commandId: `${orderId}:SendNotification`,
  orderId,
  customerId,
  template: 'order-completed',
  outcome: 'completed',
});

/** available + reserved + sold = total and none negative, for every row given. */
export function expectConserved(rows: Iterable<InventoryRow>): void {
  for (const row of rows) {
    const { ticketType, totalQuantity, availableQuantity, reservedQuantity, soldQuantity } = row;
    expect({ ticketType, sum: availableQuantity + reservedQuantity + soldQuantity }).toEqual({
      ticketType,
      sum: totalQuantity,
    });
    expect(Math.min(availableQuantity, reservedQuantity, soldQuantity)).toBeGreaterThanOrEqual(0);
  }
}

/** Every reservation of an event (a test-only scan; the handlers never scan). */
export async function reservationsOf(aws: TestAws, eventId: string): Promise<ReservationRecord[]> {
  const found: ReservationRecord[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await aws.clients.doc.send(
      new ScanCommand({
        TableName: aws.names.tables.reservations,
        ConsistentRead: true,
        FilterExpression: '#e = :e',
        ExpressionAttributeNames: { '#e': 'eventId' },
        ExpressionAttributeValues: { ':e': eventId },
        ExclusiveStartKey,
      }),
    );
    found.push(...((page.Items ?? []) as ReservationRecord[]));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return found;
}

/** Seats held by ACTIVE and sold by CONFIRMED reservations, per ticket type. */
export function heldAndSold(
  reservations: readonly ReservationRecord[],
): Map<string, { reserved: number; sold: number }> {
  const totals = new Map<string, { reserved: number; sold: number }>();
  for (const r of reservations) {
    for (const item of r.items) {
      const t = totals.get(item.ticketType) ?? { reserved: 0, sold: 0 };
      if (r.status === 'ACTIVE') t.reserved += item.quantity;
      if (r.status === 'CONFIRMED') t.sold += item.quantity;
      totals.set(item.ticketType, t);
    }
  }
  return totals;
}
