/**
 * Inventory administration, for PUT/GET /events/:eventId/inventory.
 *
 * PUT is one transaction over all the event's ticket types, so it applies entirely or not at all:
 * - a new ticket type is put with available = total, reserved = sold = 0, version 1
 *   (attribute_not_exists);
 * - a changed total moves availableQuantity by the same delta, relative to its current value, with
 *   the condition that the total is still the one read (optimistic) and that enough seats are
 *   available for a reduction. Concurrent sales change available/reserved/sold but never the total,
 *   so they do not make an admin update fail, while two racing admin updates do (the loser
 *   re-reads and re-applies its delta). A reduction below the seats already reserved or sold fails
 *   with InventoryConflictError.
 * Ticket types left out of the request are kept (they may hold reservations); only their
 * eventName follows the request.
 */
import { tryTransactWrite, type TransactItem } from '../aws/transactions';
import { inventoryChanged, nowIso, tellSoldOut, type ParticipantDeps } from './deps';
import { needsShardPlan, planShardedType } from './inventory-shards-admin';
import { MAX_SHARDS, readShards, rebalanceShards, shardCountOf, sumShards, type ShardState } from './inventory-shards';
import { backoff } from './retries';
import { InvalidInventoryError, InventoryConflictError } from './errors';
import { isIsoCurrency, isMinorUnits } from '../money/money';
import { readInventoryRows, type InventoryRow } from './records';
import { isList } from './untrusted-input';
import { ownershipItem, readEventOwner, type EventWriter } from './event-owner';

export type InventoryAdminDeps = Pick<
  ParticipantDeps,
  'doc' | 'tables' | 'logger' | 'now' | 'onInventoryChanged' | 'sleep' | 'random' | 'soldOut'
>;

export interface TicketTypeInput {
  ticketType: string;
  totalQuantity: number;
  /** The unit price in minor units of `currency` (ISO 4217 exponent); 0 for free tickets. */
  priceMinor: number;
  /** An ISO 4217 code (src/money/iso4217.ts). */
  currency: string;
  /** Inventory shards (1 to MAX_SHARDS); absent keeps the current count, 1 for a new type. Can only be raised. */
  shards?: number;
}

export interface TicketTypeInventory extends TicketTypeInput {
  availableQuantity: number;
  /**
   * Seats held or sold (totalQuantity − availableQuantity), summed over shards. Which of them are
   * sold is not kept on the inventory since the confirm stopped writing it (issue 25: the confirm is
   * one write on the reservation); the reservations' statuses say (tools/invariants.ts counts them).
   */
  takenQuantity: number;
  version: number;
  updatedAt: string | null;
}

export interface EventInventory {
  eventId: string;
  eventName: string;
  ticketTypes: TicketTypeInventory[];
}

const MAX_TICKET_TYPES = 100;
const MAX_ATTEMPTS = 10;

function validate(eventId: string, eventName: string, ticketTypes: readonly TicketTypeInput[]): void {
  if (typeof eventId !== 'string' || eventId.length === 0) throw new InvalidInventoryError('eventId is required');
  if (typeof eventName !== 'string' || eventName.length === 0) throw new InvalidInventoryError('eventName is required');
  if (!isList(ticketTypes) || ticketTypes.length === 0)
    throw new InvalidInventoryError('at least one ticket type is required');
  if (ticketTypes.length > MAX_TICKET_TYPES)
    throw new InvalidInventoryError(`at most ${MAX_TICKET_TYPES} ticket types`);
  const seen = new Set<string>();
  for (const t of ticketTypes) {
    if (typeof t.ticketType !== 'string' || t.ticketType.length === 0)
      throw new InvalidInventoryError('ticketType is required');
    if (seen.has(t.ticketType)) throw new InvalidInventoryError(`ticket type ${t.ticketType} is listed twice`);
    seen.add(t.ticketType);
    if (!Number.isSafeInteger(t.totalQuantity) || t.totalQuantity < 0) {
      throw new InvalidInventoryError(`${t.ticketType}: totalQuantity must be a non-negative integer`);
    }
    if (!isMinorUnits(t.priceMinor)) {
      throw new InvalidInventoryError(`${t.ticketType}: priceMinor must be a non-negative whole number of minor units`);
    }
    if (!isIsoCurrency(t.currency)) {
      throw new InvalidInventoryError(`${t.ticketType}: currency must be an ISO 4217 code`);
    }
    if (t.shards !== undefined && (!Number.isSafeInteger(t.shards) || t.shards < 1 || t.shards > MAX_SHARDS)) {
      throw new InvalidInventoryError(`${t.ticketType}: shards must be an integer from 1 to ${MAX_SHARDS}`);
    }
  }
}

/** The writes that bring the stored rows to the request; throws if a reduction cannot be applied. */
function plan(
  eventId: string,
  eventName: string,
  ticketTypes: readonly TicketTypeInput[],
  rows: ReadonlyMap<string, InventoryRow>,
  shards: ReadonlyMap<string, ShardState[]>,
  tableName: string,
  now: string,
): { writes: TransactItem[]; rebalance: string[] } {
  const writes: TransactItem[] = [];
  const rebalance: string[] = [];
  for (const t of ticketTypes) {
    const row = rows.get(t.ticketType);
    if (needsShardPlan(t, row)) {
      const sharded = planShardedType(eventId, eventName, t, row, shards.get(t.ticketType), tableName, now);
      writes.push(...sharded.writes);
      if (sharded.rebalance) rebalance.push(t.ticketType);
      continue;
    }
    if (!row) {
      const created: InventoryRow = {
        eventId,
        ticketType: t.ticketType,
        eventName,
        totalQuantity: t.totalQuantity,
        availableQuantity: t.totalQuantity,
        reservedQuantity: 0,
        soldQuantity: 0,
        priceMinor: t.priceMinor,
        currency: t.currency,
        version: 1,
        updatedAt: now,
      };
      writes.push({
        Put: { TableName: tableName, Item: created, ConditionExpression: 'attribute_not_exists(eventId)' },
      });
      continue;
    }
    const delta = t.totalQuantity - row.totalQuantity;
    if (row.availableQuantity + delta < 0) {
      throw new InventoryConflictError(
        `cannot set ${t.ticketType} to ${t.totalQuantity} seats: ${row.reservedQuantity + row.soldQuantity} are held or sold`,
        { eventId, ticketType: t.ticketType, availableQuantity: row.availableQuantity, delta },
      );
    }
    if (delta === 0 && row.priceMinor === t.priceMinor && row.currency === t.currency && row.eventName === eventName)
      continue;
    writes.push({
      Update: {
        TableName: tableName,
        Key: { eventId, ticketType: t.ticketType },
        UpdateExpression:
          'SET #total = :total, #available = #available + :delta, #priceMinor = :priceMinor, #currency = :currency, #eventName = :eventName, #version = #version + :one, #updatedAt = :now',
        ConditionExpression: '#total = :readTotal AND #available >= :needed',
        ExpressionAttributeNames: {
          '#total': 'totalQuantity',
          '#available': 'availableQuantity',
          '#priceMinor': 'priceMinor',
          '#currency': 'currency',
          '#eventName': 'eventName',
          '#version': 'version',
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: {
          ':total': t.totalQuantity,
          ':delta': delta,
          ':priceMinor': t.priceMinor,
          ':currency': t.currency,
          ':eventName': eventName,
          ':one': 1,
          ':now': now,
          ':readTotal': row.totalQuantity,
          ':needed': Math.max(0, -delta),
        },
      },
    });
  }
  const requested = new Set(ticketTypes.map((t) => t.ticketType));
  for (const row of rows.values()) {
    if (requested.has(row.ticketType) || row.eventName === eventName) continue;
    writes.push({
      Update: {
        TableName: tableName,
        Key: { eventId, ticketType: row.ticketType },
        UpdateExpression: 'SET #eventName = :eventName, #updatedAt = :now',
        ConditionExpression: 'attribute_exists(#eventId)',
        ExpressionAttributeNames: { '#eventName': 'eventName', '#updatedAt': 'updatedAt', '#eventId': 'eventId' },
        ExpressionAttributeValues: { ':eventName': eventName, ':now': now },
      },
    });
  }
  return { writes, rebalance };
}

/** The shards of the event's sharded ticket types (unsharded ones are their row). */
async function readShardedTypes(
  deps: Pick<ParticipantDeps, 'doc' | 'tables'>,
  eventId: string,
  rows: ReadonlyMap<string, InventoryRow>,
) {
  const sharded = [...rows.values()].filter((r) => shardCountOf(r) > 1);
  return sharded.length === 0 ? new Map<string, ShardState[]>() : readShards(deps, eventId, sharded);
}

/** Totals over shards: clients see a ticket type, never its shards (only how many there are). */
function toView(
  eventId: string,
  rows: ReadonlyMap<string, InventoryRow>,
  shards: ReadonlyMap<string, ShardState[]>,
): EventInventory | null {
  if (rows.size === 0) return null;
  const ticketTypes = [...rows.values()]
    .sort((a, b) => a.ticketType.localeCompare(b.ticketType))
    .map((r) => {
      const of = shards.get(r.ticketType);
      const totals = of ? sumShards(of) : r;
      return {
        ticketType: r.ticketType,
        totalQuantity: r.totalQuantity,
        availableQuantity: totals.availableQuantity,
        takenQuantity: totals.reservedQuantity + totals.soldQuantity,
        priceMinor: r.priceMinor,
        currency: r.currency,
        ...(shardCountOf(r) > 1 ? { shards: shardCountOf(r) } : {}),
        version: r.version,
        updatedAt: r.updatedAt ?? null,
      };
    });
  return { eventId, eventName: [...rows.values()][0].eventName, ticketTypes };
}

/**
 * Creates or updates an event's ticket types; returns the stored inventory afterwards. With a
 * `writer` (every HTTP request), the event's ownership rule (./event-owner.ts) is decided on the
 * claim read and kept true by an item of the same transaction; without one (seeding by the
 * project's own tools and tests) no rule applies.
 * @throws EventOwnershipError when the writer may not change the event (nothing is written).
 */
export async function putEventInventory(
  deps: InventoryAdminDeps,
  eventId: string,
  eventName: string,
  ticketTypes: readonly TicketTypeInput[],
  writer?: EventWriter,
): Promise<EventInventory> {
  validate(eventId, eventName, ticketTypes);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [rows, owner] = await Promise.all([
      readInventoryRows(deps, eventId),
      writer ? readEventOwner(deps, eventId) : undefined,
    ]);
    // Decided before anything else, so that a refused writer learns nothing from a conflict either.
    const ownership = writer ? ownershipItem(deps, eventId, owner, rows.size > 0, writer) : undefined;
    const shards = await readShardedTypes(deps, eventId, rows);
    const { writes, rebalance } = plan(
      eventId,
      eventName,
      ticketTypes,
      rows,
      shards,
      deps.tables.inventory,
      nowIso(deps),
    );
    if (writes.length === 0) return toView(eventId, rows, shards) as EventInventory;
    if (ownership) writes.push(ownership);
    if (writes.length > MAX_TICKET_TYPES) {
      throw new InvalidInventoryError(`event ${eventId} has too many ticket types to update at once`);
    }
    // A condition failed (another admin write, or seats sold meanwhile) or the write conflicted:
    // read again and plan again, which throws if the change no longer fits. Only a lost race comes
    // back; a fault (a value DynamoDB refuses, a limit) throws: it fails the same way every time.
    if ((await tryTransactWrite(deps.doc, writes)) !== null) {
      await backoff(deps, attempt);
      continue;
    }
    deps.logger.info('inventory updated', {
      eventId,
      ticketTypes: ticketTypes.map((t) => t.ticketType),
      writes: writes.length,
    });
    // New shards start empty and added seats land on shard 0: spread them. Best effort: the
    // seats are sellable already (a reservation falls back to the shard that has them).
    for (const ticketType of rebalance) {
      try {
        const head = (await readInventoryRows(deps, eventId)).get(ticketType);
        if (head) await rebalanceShards(deps, eventId, head);
      } catch (error) {
        deps.logger.warn('rebalance after PUT failed; seats stay where they are', { eventId, ticketType, error });
      }
    }
    await inventoryChanged(deps, eventId);
    await tellSoldOut(
      deps,
      'seatsReturned',
      eventId,
      ticketTypes.map((t) => t.ticketType),
    );
    const after = await getEventInventory(deps, eventId);
    if (!after) throw new Error(`inventory for ${eventId} missing right after it was written`);
    return after;
  }
  throw new InventoryConflictError(`inventory for ${eventId} kept changing; try again`, { eventId });
}

/** An event's ticket types (strongly consistent), or null when the event has none. */
export async function getEventInventory(
  deps: Pick<ParticipantDeps, 'doc' | 'tables'>,
  eventId: string,
): Promise<EventInventory | null> {
  const rows = await readInventoryRows(deps, eventId);
  return toView(eventId, rows, await readShardedTypes(deps, eventId, rows));
}
