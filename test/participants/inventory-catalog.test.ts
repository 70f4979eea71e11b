/** The catalog a worker keeps for its reserves (src/participants/inventory-catalog.ts): what, how long, how many. */
import { InventoryCatalog } from '../../src/participants/inventory-catalog';
import type { InventoryRow } from '../../src/participants/records';

function row(ticketType: string, priceMinor: number, shardCount?: number): InventoryRow {
  return {
    eventId: 'e',
    ticketType,
    eventName: 'Concert',
    totalQuantity: 10,
    availableQuantity: 7,
    reservedQuantity: 3,
    soldQuantity: 0,
    priceMinor,
    currency: 'EUR',
    version: 4,
    ...(shardCount !== undefined ? { shardCount } : {}),
  };
}

const rows = (...list: InventoryRow[]) => new Map(list.map((r) => [r.ticketType, r]));

it('keeps prices, currencies and shard counts, never seats', () => {
  const catalog = new InventoryCatalog();
  catalog.remember('e1', rows(row('GA', 1999), row('VIP', 10000, 4)));
  expect([...(catalog.get('e1') ?? new Map()).values()]).toEqual([
    { ticketType: 'GA', priceMinor: 1999, currency: 'EUR', shardCount: undefined },
    { ticketType: 'VIP', priceMinor: 10000, currency: 'EUR', shardCount: 4 },
  ]);
  expect(catalog.get('e2')).toBeUndefined();
});

it('does not keep an event read with no rows: an unknown event is read again', () => {
  const catalog = new InventoryCatalog();
  catalog.remember('e1', rows(row('GA', 1999)));
  catalog.remember('e1', new Map());
  expect(catalog.get('e1')).toBeUndefined();
});

it('is read again after ttlMs, and keeps at most maxEvents, the least recently used out first', () => {
  let now = 5_000;
  const catalog = new InventoryCatalog(2, 1000, () => now);
  catalog.remember('a', rows(row('GA', 1)));
  catalog.remember('b', rows(row('GA', 2)));
  expect(catalog.get('a')?.get('GA')?.priceMinor).toBe(1); // a is now the most recently used
  catalog.remember('c', rows(row('GA', 3)));
  expect([catalog.get('a'), catalog.get('b'), catalog.get('c')].map((t) => t?.get('GA')?.priceMinor)).toEqual([
    1,
    undefined,
    3,
  ]);
  now = 6_000; // exactly ttlMs old: still used
  expect(catalog.get('c')).toBeDefined();
  now = 6_001; // older than ttlMs: read again
  expect(catalog.get('c')).toBeUndefined();
  expect(() => new InventoryCatalog(0)).toThrow(RangeError);
  expect(() => new InventoryCatalog(1, 0)).toThrow(RangeError);
});
