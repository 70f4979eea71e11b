/** The shapes participants store, one per table, and the consistent base-table reads of them. */
import { GetCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { OrderItem, ReservationStatus } from '../../machines/order-saga/types';
import type { ParticipantDeps } from './deps';

/**
 * TicketInventory: one row per (eventId, ticketType) (and per shard k >= 1). available + reserved +
 * sold = total. reserved + sold are the seats taken: `reservedQuantity` counts holds and the sales
 * this build confirmed (the confirm leaves the row alone), `soldQuantity` the sales the previous
 * build confirmed (src/participants/inventory.ts).
 */
export interface InventoryRow {
  eventId: string;
  ticketType: string;
  eventName: string;
  totalQuantity: number;
  availableQuantity: number;
  reservedQuantity: number;
  soldQuantity: number;
  /** The unit price in the currency's minor units (ISO 4217 exponent). */
  priceMinor: number;
  currency: string;
  version: number;
  updatedAt?: string;
  /** Inventory shards of this ticket type (src/participants/inventory-shards.ts); absent = 1. */
  shardCount?: number;
  /** The seats of shard 0 (this row) when sharded; absent = totalQuantity. */
  shardTotal?: number;
}

/** Which seats of a reservation come from which shard (src/participants/inventory-shards.ts). */
export interface ShardTake {
  ticketType: string;
  /** 0 = the ticket type's own row. */
  shard: number;
  quantity: number;
}

export interface ReservedItem extends OrderItem {
  /** Minor units. */
  unitPriceMinor: number;
}

/** TicketReservations: reservationId = orderId, so a re-sent ReserveSeats finds its own record. */
export interface ReservationRecord {
  reservationId: string;
  orderId: string;
  eventId?: string;
  /** With `unitPriceMinor` on reservations that held seats. */
  items: Array<OrderItem & { unitPriceMinor?: number }>;
  status: ReservationStatus;
  /**
   * When the hold ends, on reservations that held seats. As stored, only while ACTIVE: the settle
   * moves it to `heldUntil` (it was the sort key of ExpirationIndex, retired since: issue 25); either
   * way readReservation gives it back as `expiresAt`. The table has no secondary index: the sweeper
   * finds expired holds through their sagas (src/runtime/sweeper.ts).
   */
  expiresAt?: string;
  /** `expiresAt` of a hold that ended (CONFIRMED, RELEASED, EXPIRED), off the index; see expiresAt. */
  heldUntil?: string;
  /** The total held, in minor units. */
  amountMinor?: number;
  currency?: string;
  /** Which shards hold its seats; absent on reservations written before sharding (shard 0). */
  shards?: ShardTake[];
  /** Why a REJECTED reservation holds nothing. */
  reason?: string;
  /** Written by a ReleaseSeats that came before its ReserveSeats: it never held seats. */
  tombstone?: boolean;
  commandId: string;
  createdAt: string;
  updatedAt: string;
  confirmedAt?: string;
  /**
   * Set by the confirm of this build: the sold seats stayed in the shard's `reservedQuantity` (the
   * seats taken); absent on a sale the previous build confirmed, whose seats it moved to
   * `soldQuantity` (inventory.ts, takenColumnOf).
   */
  seatsStayTaken?: boolean;
  releasedAt?: string;
}

export type PaymentStatus = 'IN_FLIGHT' | 'CAPTURED' | 'DECLINED' | 'VOIDED' | 'REFUNDED';

/** Payments: one record per order, so an order is charged at most once. */
export interface PaymentRecord {
  orderId: string;
  status: PaymentStatus;
  /** Minor units. Absent on a record created by VoidPayment (no charge was ever attempted). */
  amountMinor?: number;
  currency?: string;
  paymentToken?: string;
  chargeId?: string;
  /** Gateway calls started for this charge (more than 1 after a worker died mid-charge). */
  attempts?: number;
  reason?: string;
  createdAt: string;
  updatedAt: string;
  capturedAt?: string;
  declinedAt?: string;
  voidedAt?: string;
  refundId?: string;
  /** Minor units. */
  refundedAmountMinor?: number;
  refundedAt?: string;
}

export interface NotificationRecord {
  notificationId: string;
  orderId: string;
  customerId: string;
  template: string;
  /** Why the order ended so (absent on records written before it was added). */
  outcome?: string;
  /** A hold reminder's (machine v3): when the hold it reminds of expires. */
  expiresAt?: string;
  sentAt: string;
}

type Deps = Pick<ParticipantDeps, 'doc' | 'tables'>;

/** Every ticket type of an event, by ticketType (strongly consistent, base table). */
export async function readInventoryRows(deps: Deps, eventId: string): Promise<Map<string, InventoryRow>> {
  const rows = new Map<string, InventoryRow>();
  let startKey: QueryCommandOutput['LastEvaluatedKey'];
  do {
    const page = await deps.doc.send(
      new QueryCommand({
        TableName: deps.tables.inventory,
        KeyConditionExpression: '#eventId = :eventId',
        ExpressionAttributeNames: { '#eventId': 'eventId' },
        ExpressionAttributeValues: { ':eventId': eventId },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const row = item as InventoryRow;
      // Shard rows k >= 1 live under their own partition key; defensive against a foreign row.
      if ((item as { shardOf?: unknown }).shardOf !== undefined) continue;
      rows.set(row.ticketType, row);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rows;
}

/** One record by its key, read consistently from the base table. */
async function readRecord<T>(
  deps: Deps,
  table: keyof Deps['tables'],
  key: Record<string, string>,
): Promise<T | undefined> {
  const { Item } = await deps.doc.send(
    new GetCommand({ TableName: deps.tables[table], Key: key, ConsistentRead: true }),
  );
  return Item as T | undefined;
}

/** A reservation as stored, with `expiresAt` put back from `heldUntil` once the hold ended. */
export function asReservation(item: ReservationRecord): ReservationRecord {
  return item.expiresAt === undefined && item.heldUntil !== undefined ? { ...item, expiresAt: item.heldUntil } : item;
}

export async function readReservation(deps: Deps, reservationId: string): Promise<ReservationRecord | undefined> {
  const item = await readRecord<ReservationRecord>(deps, 'reservations', { reservationId });
  return item && asReservation(item);
}

/** The notification a SendNotification command recorded (its id is the command id). */
export function readNotification(deps: Deps, notificationId: string): Promise<NotificationRecord | undefined> {
  return readRecord(deps, 'notifications', { notificationId });
}

export function readPayment(deps: Deps, orderId: string): Promise<PaymentRecord | undefined> {
  return readRecord(deps, 'payments', { orderId });
}
