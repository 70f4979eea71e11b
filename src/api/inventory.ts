/**
 * Event inventory for the API: the admin port (the inventory participant's putEventInventory /
 * getEventInventory) read through the Redis cache. Reads are cache-aside with a short TTL; every
 * write invalidates the full view, and the admin PUT also the catalog that POST /orders checks
 * against (see CachedInventory.catalog). The cache is an optimisation: with Redis down every call
 * goes to DynamoDB.
 */
import { INVENTORY_TTL_SECONDS, inventoryCatalogKey, inventoryKey } from '../cache/inventory-cache';
import { readThrough } from '../cache/cache-aside';
import type { CacheStatus, JsonCache } from '../cache/json-cache';
import type {
  EventInventory,
  EventWriter,
  InventoryAdminDeps,
  TicketTypeInput,
  TicketTypeInventory,
} from '../participants';
import {
  ensureMayChangeEvent,
  EventOwnershipError,
  getEventInventory,
  putEventInventory,
  readInventoryRows,
} from '../participants';
import { fromMinorUnits } from '../money/money';

/** What the API needs of the inventory participant (src/participants/inventory-admin.ts). */
export interface InventoryPort {
  /** `writer`: the caller, whose right to change the event is checked in the write (EventOwnershipError). */
  putEventInventory(
    eventId: string,
    eventName: string,
    ticketTypes: readonly TicketTypeInput[],
    writer: EventWriter,
  ): Promise<EventInventory>;
  getEventInventory(eventId: string): Promise<EventInventory | null>;
  /** Throws EventOwnershipError unless `writer` may change the event (a new event is claimed for it). */
  mayChangeEvent(eventId: string, writer: EventWriter): Promise<void>;
}

export function inventoryPortFrom(deps: InventoryAdminDeps): InventoryPort {
  return {
    putEventInventory: (eventId, eventName, ticketTypes, writer) =>
      putEventInventory(deps, eventId, eventName, ticketTypes, writer),
    getEventInventory: (eventId) => getEventInventory(deps, eventId),
    mayChangeEvent: async (eventId, writer) =>
      ensureMayChangeEvent(deps, eventId, (await readInventoryRows(deps, eventId)).size > 0, writer),
  };
}

/** A ticket type as clients see it: the stored row without its bookkeeping, its price in major units. */
export type TicketTypeView = Omit<TicketTypeInventory, 'version' | 'updatedAt' | 'priceMinor'> & { price: number };

export interface InventoryView {
  eventId: string;
  eventName: string;
  ticketTypes: TicketTypeView[];
}

export function inventoryView(inventory: EventInventory): InventoryView {
  return {
    eventId: inventory.eventId,
    eventName: inventory.eventName,
    ticketTypes: inventory.ticketTypes.map((t) => ({
      ticketType: t.ticketType,
      totalQuantity: t.totalQuantity,
      availableQuantity: t.availableQuantity,
      takenQuantity: t.takenQuantity,
      price: fromMinorUnits(t.priceMinor, t.currency),
      currency: t.currency,
      ...(t.shards !== undefined ? { shards: t.shards } : {}),
    })),
  };
}

/**
 * What placing an order checks against (src/api/routes/orders.ts): the event's name and its ticket
 * types with their currencies. No seat counts: those move with every reservation (see catalog).
 */
export interface EventCatalog {
  eventId: string;
  eventName: string;
  ticketTypes: Array<Pick<TicketTypeView, 'ticketType' | 'currency'>>;
}

function catalogOf(inventory: EventInventory): EventCatalog {
  return {
    eventId: inventory.eventId,
    eventName: inventory.eventName,
    ticketTypes: inventory.ticketTypes.map((t) => ({ ticketType: t.ticketType, currency: t.currency })),
  };
}

export class CachedInventory {
  /** See InventoryPort.mayChangeEvent. */
  mayChangeEvent(eventId: string, writer: EventWriter): Promise<void> {
    return this.port.mayChangeEvent(eventId, writer);
  }

  constructor(
    private readonly port: InventoryPort,
    private readonly cache: JsonCache,
    private readonly ttlSeconds = INVENTORY_TTL_SECONDS,
  ) {}

  async get(eventId: string): Promise<{ inventory: InventoryView | undefined; cache: CacheStatus }> {
    const read = await readThrough<InventoryView>(this.cache, inventoryKey(eventId), this.ttlSeconds, async () => {
      const stored = await this.port.getEventInventory(eventId);
      return stored ? inventoryView(stored) : undefined;
    });
    return { inventory: read.value, cache: read.cache };
  }

  /**
   * The event's catalog (EventCatalog), read through its own cache key (inventoryCatalogKey): seats
   * moving leave it cached, only a PUT of the inventory through this class drops it. Undefined for
   * an unknown event. `fresh`: drop the cached copy and read the store (the caller is about to refuse
   * an order on the cached one; a write that did not come through `put` may have changed it).
   */
  async catalog(eventId: string, { fresh = false }: { fresh?: boolean } = {}): Promise<EventCatalog | undefined> {
    if (fresh) await this.cache.del(inventoryCatalogKey(eventId));
    // Orders for one event that arrive while its catalog is being read share that read: a sale's
    // first burst (or the burst after the TTL) costs one DynamoDB read per process, not one per order.
    // What a shared read can serve is what any read can: at most the TTL behind a racing PUT.
    let read = fresh ? undefined : this.catalogReads.get(eventId);
    if (!read) {
      const started = readThrough<EventCatalog>(this.cache, inventoryCatalogKey(eventId), this.ttlSeconds, async () => {
        const stored = await this.port.getEventInventory(eventId);
        return stored ? catalogOf(stored) : undefined;
      })
        .then((r) => r.value)
        .finally(() => {
          if (this.catalogReads.get(eventId) === started) this.catalogReads.delete(eventId);
        });
      this.catalogReads.set(eventId, started);
      read = started;
    }
    return read;
  }

  /** Catalog reads in flight, by event (see catalog). */
  private readonly catalogReads = new Map<string, Promise<EventCatalog | undefined>>();

  async put(
    eventId: string,
    eventName: string,
    ticketTypes: readonly TicketTypeInput[],
    writer: EventWriter,
  ): Promise<InventoryView> {
    let written: EventInventory;
    try {
      written = await this.port.putEventInventory(eventId, eventName, ticketTypes, writer);
    } catch (error) {
      // Refused before anything was written: the cached copy is still true, and a writer who may
      // not change the event must not be able to empty its cache either (each miss is a read).
      // After any other failure, part of the write may have landed: the copy goes.
      if (!(error instanceof EventOwnershipError)) await this.forget(eventId);
      throw error;
    }
    await this.forget(eventId);
    return inventoryView(written);
  }

  /** Drops the event's cached view and catalog. */
  private async forget(eventId: string): Promise<void> {
    await Promise.all([this.cache.del(inventoryKey(eventId)), this.cache.del(inventoryCatalogKey(eventId))]);
  }
}
