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
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { inventoryChanged, nowIso, type ParticipantDeps } from './deps';
import { backoff, cancellationCodes, isTransactionConflict } from './dynamo-errors';
import { InvalidInventoryError, InventoryConflictError } from './errors';
import { isIsoCurrency, isMinorUnits } from '../money/money';
import { readInventoryRows, type InventoryRow } from './records';

export type InventoryAdminDeps = Pick<ParticipantDeps, 'doc' | 'tables' | 'logger' | 'now' | 'onInventoryChanged' | 'sleep' | 'random'>;

export interface TicketTypeInput {
  ticketType: string;
  totalQuantity: number;
  /** The unit price in minor units of `currency` (ISO 4217 exponent); 0 for free tickets. */
  priceMinor: number;
  /** An ISO 4217 code (src/money/iso4217.ts). */
  currency: string;
}

export interface TicketTypeInventory extends TicketTypeInput {
  availableQuantity: number;
  reservedQuantity: number;
  soldQuantity: number;
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
  if (!Array.isArray(ticketTypes) || ticketTypes.length === 0) throw new InvalidInventoryError('at least one ticket type is required');
  if (ticketTypes.length > MAX_TICKET_TYPES) throw new InvalidInventoryError(`at most ${MAX_TICKET_TYPES} ticket types`);
  const seen = new Set<string>();
  for (const t of ticketTypes) {
    if (typeof t.ticketType !== 'string' || t.ticketType.length === 0) throw new InvalidInventoryError('ticketType is required');
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
  }
}

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** The writes that bring the stored rows to the request; throws if a reduction cannot be applied. */
function plan(
  eventId: string,
  eventName: string,
  ticketTypes: readonly TicketTypeInput[],
  rows: ReadonlyMap<string, InventoryRow>,
  tableName: string,
  now: string,
): TransactItem[] {
  const writes: TransactItem[] = [];
  for (const t of ticketTypes) {
    const row = rows.get(t.ticketType);
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
      writes.push({ Put: { TableName: tableName, Item: created, ConditionExpression: 'attribute_not_exists(eventId)' } });
      continue;
    }
    const delta = t.totalQuantity - row.totalQuantity;
    if (row.availableQuantity + delta < 0) {
      throw new InventoryConflictError(
        `cannot set ${t.ticketType} to ${t.totalQuantity} seats: ${row.reservedQuantity} are reserved and ${row.soldQuantity} sold`,
        { eventId, ticketType: t.ticketType, availableQuantity: row.availableQuantity, delta },
      );
    }
    if (delta === 0 && row.priceMinor === t.priceMinor && row.currency === t.currency && row.eventName === eventName) continue;
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
  return writes;
}

function toView(eventId: string, rows: ReadonlyMap<string, InventoryRow>): EventInventory | null {
  if (rows.size === 0) return null;
  const ticketTypes = [...rows.values()]
    .sort((a, b) => a.ticketType.localeCompare(b.ticketType))
    .map((r) => ({
      ticketType: r.ticketType,
      totalQuantity: r.totalQuantity,
      availableQuantity: r.availableQuantity,
      reservedQuantity: r.reservedQuantity,
      soldQuantity: r.soldQuantity,
      priceMinor: r.priceMinor,
      currency: r.currency,
      version: r.version,
      updatedAt: r.updatedAt ?? null,
    }));
  return { eventId, eventName: [...rows.values()][0].eventName, ticketTypes };
}

/** Creates or updates an event's ticket types; returns the stored inventory afterwards. */
export async function putEventInventory(
  deps: InventoryAdminDeps,
  eventId: string,
  eventName: string,
  ticketTypes: readonly TicketTypeInput[],
): Promise<EventInventory> {
  validate(eventId, eventName, ticketTypes);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const rows = await readInventoryRows(deps, eventId);
    const writes = plan(eventId, eventName, ticketTypes, rows, deps.tables.inventory, nowIso(deps));
    if (writes.length === 0) return toView(eventId, rows) as EventInventory;
    if (writes.length > MAX_TICKET_TYPES) {
      throw new InvalidInventoryError(`event ${eventId} has too many ticket types to update at once`);
    }
    try {
      await deps.doc.send(new TransactWriteCommand({ TransactItems: writes }));
    } catch (error) {
      // A condition failed (another admin write, or seats sold meanwhile) or the write conflicted:
      // read again and plan again, which throws if the change no longer fits.
      if (cancellationCodes(error) === null && !isTransactionConflict(error)) throw error;
      await backoff(deps, attempt);
      continue;
    }
    deps.logger.info('inventory updated', { eventId, ticketTypes: ticketTypes.map((t) => t.ticketType), writes: writes.length });
    await inventoryChanged(deps, eventId);
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
  return toView(eventId, await readInventoryRows(deps, eventId));
}
