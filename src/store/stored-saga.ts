/**
 * The shapes of an order and its saga as the store keeps them on the TicketOrders item. Apart from
 * the store (saga-store.ts) so that the item's byte layout (order-item.ts) and the store read the
 * same types without importing each other.
 */
import type { OrderItem, OrderStatus, PersistedSaga } from '../../machines/order-saga';

export interface OrderRecord {
  orderId: string;
  customerId: string;
  eventId: string;
  items: OrderItem[];
  status: OrderStatus;
  /** The order's total in minor units of `currency`, once the seats are priced. */
  totalAmountMinor: number | null;
  currency: string | null;
  createdAt: string;
  updatedAt: string;
  correlationId: string;
  /** Hash of the creating request, to answer an Idempotency-Key replay (or refuse a reuse). */
  requestHash: string;
  /** Human-readable, unique (src/store/order-numbers.ts); absent on orders placed before it existed. */
  orderNumber?: string;
  /** The event's name when the order was placed. */
  eventName?: string;
}

export interface StoredSaga extends OrderRecord {
  /**
   * `createdAt#orderId`: the listings' sort key (CustomerIndex, StatusOrdersIndex). Written once
   * at creation and never changed, unique per order, so a cursor walk never skips or repeats an
   * order that keeps its status (docs/api.md, "Listings").
   */
  createdKey: string;
  sagaState: PersistedSaga['state'];
  sagaVersion: number;
  saga: PersistedSaga;
  /** The last 25 applied event ids, oldest first, as order-item.ts's rememberedEventId shortens them. */
  appliedEventIds: string[];
  stateEnteredAt: string;
  /** The sweeper's last automatic re-send of this version's outbox (see leaseResend). */
  resendLease?: ResendLease;
  /** Set while the saga's events wait for a build that knows its machine version; a step clears it. */
  versionWait?: VersionWait;
  /**
   * Never stored: set by SagaStore.load when the order item (the projection) lags the commit (the
   * latest Events row), to the version the item holds. Whoever finds it set rolls the item forward
   * (SagaStore.project).
   */
  projectedVersion?: number;
  /** Never stored: set with `projectedVersion`, the saga state the order item holds. */
  projectedState?: string;
}

/** A saga on a machine version the build that saw it lacks (src/runtime/version-wait.ts). */
export interface VersionWait {
  machineVersion: string;
  /** What the build that saw it knows. */
  knownVersions: string[];
  /** The event type that waits. */
  eventType: string;
  since: string;
  lastSeenAt: string;
  /** Deliveries seen waiting so far. */
  seen: number;
}

export interface ResendLease {
  /** The sagaVersion it was taken at: a step that moves the saga makes it stale. */
  version: number;
  /** Re-sends at this version so far. */
  count: number;
  at: string;
}
