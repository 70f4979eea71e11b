/**
 * Sharded inventory against the emulator: a ticket type over N items never oversells, an order
 * may span shards and gives back exactly its seats, rebalancing and raising the shard count are
 * safe while sales run, and the invariant checker judges every shard.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { handleInventoryCommand } from '../../src/participants/inventory';
import { getEventInventory, putEventInventory } from '../../src/participants/inventory-admin';
import { readInventoryRows, readReservation, type InventoryRow } from '../../src/participants/records';
import { isShardRow, readShards, rebalanceShards, type ShardRow } from '../../src/participants/inventory-shards';
import { InventoryConflictError } from '../../src/participants/errors';
import { inventoryViolations } from '../../tools/invariants';
import { createTestAws, type TestAws } from '../support/aws';
import { confirm, participantDeps, release, reservationsOf, reserve, uid } from './helpers';
import { InventoryCatalog } from '../../src/participants/inventory-catalog';
import type { SoldOutHooks } from '../../src/participants/deps';
import { meterClients, type MeteredCall } from '../../src/observability/cost-meter';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients';
import { TEST_AWS_CONFIG } from '../support/aws';

let aws: TestAws;
beforeAll(async () => {
  aws = await createTestAws('tshard');
});
afterAll(async () => {
  await aws?.cleanup();
});

/** The event's rows: its ticket types and their shards (a test-only scan). */
async function rowsOf(eventId: string): Promise<Array<InventoryRow | ShardRow>> {
  const { Items } = await aws.clients.doc.send(
    new ScanCommand({ TableName: aws.names.tables.inventory, ConsistentRead: true }),
  );
  return ((Items ?? []) as Array<InventoryRow | ShardRow>).filter(
    (r) => (isShardRow(r) ? r.shardOf : r.eventId) === eventId,
  );
}

async function violations(eventId: string) {
  return inventoryViolations(await rowsOf(eventId), await reservationsOf(aws, eventId));
}

async function shardEvent(total: number, shards: number): Promise<string> {
  const eventId = uid('flash');
  await putEventInventory(participantDeps(aws), eventId, 'Flash', [
    { ticketType: 'GA', totalQuantity: total, priceMinor: 1000, currency: 'EUR', shards },
  ]);
  return eventId;
}

async function shardAvailability(eventId: string): Promise<number[]> {
  const head = (await readInventoryRows(participantDeps(aws), eventId)).get('GA')!;
  return (await readShards(participantDeps(aws), eventId, [head])).get('GA')!.map((s) => s.availableQuantity);
}

it('splits a ticket type over its shards and shows only the totals', async () => {
  const eventId = await shardEvent(10, 4);
  const rows = await rowsOf(eventId);
  expect(rows).toHaveLength(4);
  expect(await shardAvailability(eventId)).toEqual([3, 3, 2, 2]);
  const view = await getEventInventory(participantDeps(aws), eventId);
  expect(view?.ticketTypes).toEqual([
    expect.objectContaining({
      ticketType: 'GA',
      totalQuantity: 10,
      availableQuantity: 10,
      takenQuantity: 0,
      shards: 4,
    }),
  ]);
  // The event's own query sees one ticket type, not its shards.
  expect([...(await readInventoryRows(participantDeps(aws), eventId)).keys()]).toEqual(['GA']);
  expect(await violations(eventId)).toEqual([]);
});

it('sells exactly the total under concurrency, never a shard below zero', async () => {
  const eventId = await shardEvent(30, 8);
  const deps = participantDeps(aws);
  const orders = Array.from({ length: 45 }, (_, i) => ({ orderId: uid('o'), quantity: (i % 2) + 1 }));
  const replies = await Promise.all(
    orders.map((o) =>
      handleInventoryCommand(reserve(o.orderId, eventId, [{ ticketType: 'GA', quantity: o.quantity }]), deps),
    ),
  );
  const reserved = orders.filter((_, i) => replies[i].type === 'SEATS_RESERVED').reduce((a, o) => a + o.quantity, 0);
  const view = await getEventInventory(deps, eventId);
  expect(view?.ticketTypes[0]).toMatchObject({
    totalQuantity: 30,
    takenQuantity: reserved,
    availableQuantity: 30 - reserved,
  });
  // 45 orders ask for 67 seats: every seat went, except at most one a 2-seat order could not take.
  expect(reserved).toBeGreaterThanOrEqual(29);
  expect(Math.min(...(await shardAvailability(eventId)))).toBeGreaterThanOrEqual(0);
  expect(await violations(eventId)).toEqual([]);

  // Confirm half and release the rest at the same time as a rebalance moves seats around.
  const held = orders.filter((_, i) => replies[i].type === 'SEATS_RESERVED');
  const head = (await readInventoryRows(deps, eventId)).get('GA')!;
  await Promise.all([
    ...held.map((o, i) =>
      handleInventoryCommand(i % 2 === 0 ? confirm(o.orderId) : release(o.orderId, 'EXPIRED'), deps),
    ),
    rebalanceShards(deps, eventId, head),
    rebalanceShards(deps, eventId, head),
  ]);
  const sold = held.filter((_, i) => i % 2 === 0).reduce((a, o) => a + o.quantity, 0);
  expect((await getEventInventory(deps, eventId))?.ticketTypes[0]).toMatchObject({
    takenQuantity: sold,
    availableQuantity: 30 - sold,
  });
  expect(await violations(eventId)).toEqual([]);
});

it('spans shards when no single one can cover the order, and gives back exactly those seats', async () => {
  const eventId = await shardEvent(8, 4);
  const deps = participantDeps(aws);
  // Take 1 seat from each shard of 2: each shard is left with 1.
  for (let k = 0; k < 4; k++) {
    const reply = await handleInventoryCommand(reserve(uid('o'), eventId, [{ ticketType: 'GA', quantity: 1 }]), {
      ...deps,
      random: () => k / 4,
    });
    expect(reply.type).toBe('SEATS_RESERVED');
  }
  expect(await shardAvailability(eventId)).toEqual([1, 1, 1, 1]);
  const big = uid('big');
  expect((await handleInventoryCommand(reserve(big, eventId, [{ ticketType: 'GA', quantity: 3 }]), deps)).type).toBe(
    'SEATS_RESERVED',
  );
  const record = await readReservation(deps, big);
  expect(record?.shards?.map((s) => s.quantity)).toEqual([1, 1, 1]);
  expect((await shardAvailability(eventId)).reduce((a, b) => a + b)).toBe(1);
  // More than what is left: sold out, nothing moves.
  expect(
    (await handleInventoryCommand(reserve(uid('o'), eventId, [{ ticketType: 'GA', quantity: 2 }]), deps)).type,
  ).toBe('SEATS_UNAVAILABLE');
  await handleInventoryCommand(release(big), deps);
  expect(await shardAvailability(eventId)).toEqual([1, 1, 1, 1]);
  expect(await violations(eventId)).toEqual([]);
});

it('raises the shard count of an unsharded type that holds reservations, and refuses to lower it', async () => {
  const eventId = uid('legacy');
  const deps = participantDeps(aws);
  await putEventInventory(deps, eventId, 'Legacy', [
    { ticketType: 'GA', totalQuantity: 12, priceMinor: 1000, currency: 'EUR' },
  ]);
  const early = uid('early');
  await handleInventoryCommand(reserve(early, eventId, [{ ticketType: 'GA', quantity: 2 }]), deps);

  await putEventInventory(deps, eventId, 'Legacy', [
    { ticketType: 'GA', totalQuantity: 20, priceMinor: 1000, currency: 'EUR', shards: 4 },
  ]);
  expect((await getEventInventory(deps, eventId))?.ticketTypes[0]).toMatchObject({
    totalQuantity: 20,
    availableQuantity: 18,
    takenQuantity: 2,
    shards: 4,
  });
  // The new shards got seats by the rebalance: available spread evenly.
  expect(await shardAvailability(eventId)).toEqual(expect.arrayContaining([5, 5, 4, 4]));
  // The reservation made before sharding gives its seats back to shard 0.
  await handleInventoryCommand(release(early), deps);
  expect((await getEventInventory(deps, eventId))?.ticketTypes[0]).toMatchObject({
    availableQuantity: 20,
    takenQuantity: 0,
  });
  expect(await violations(eventId)).toEqual([]);

  await expect(
    putEventInventory(deps, eventId, 'Legacy', [
      { ticketType: 'GA', totalQuantity: 20, priceMinor: 1000, currency: 'EUR', shards: 2 },
    ]),
  ).rejects.toBeInstanceOf(InventoryConflictError);
  // A lower total takes seats from the shards that have them; a price change reaches every shard.
  await putEventInventory(deps, eventId, 'Legacy', [
    { ticketType: 'GA', totalQuantity: 7, priceMinor: 1200, currency: 'EUR' },
  ]);
  expect((await getEventInventory(deps, eventId))?.ticketTypes[0]).toMatchObject({
    totalQuantity: 7,
    availableQuantity: 7,
    priceMinor: 1200,
    shards: 4,
  });
  expect((await rowsOf(eventId)).every((r) => r.priceMinor === 1200)).toBe(true);
  const o = uid('o');
  expect(await handleInventoryCommand(reserve(o, eventId, [{ ticketType: 'GA', quantity: 1 }]), deps)).toMatchObject({
    type: 'SEATS_RESERVED',
    amountMinor: 1200,
  });
  expect(await violations(eventId)).toEqual([]);
});

/**
 * Sold-out hooks that record each flag with the seats the store held for the type over all its
 * shards when it was raised (read consistently right then): with no release running, a right flag finds 0.
 */
function flagRecorder(): { hooks: SoldOutHooks; flags: Array<{ ticketType: string; availableThen: number }> } {
  const flags: Array<{ ticketType: string; availableThen: number }> = [];
  const hooks: SoldOutHooks = {
    soldOut: async (eventId, ticketTypes) => {
      const view = await getEventInventory(participantDeps(aws), eventId);
      for (const t of ticketTypes) {
        const type = view?.ticketTypes.find((v) => v.ticketType === t);
        flags.push({ ticketType: t, availableThen: type?.availableQuantity ?? -1 });
      }
    },
    seatsReturned: async () => {},
  };
  return { hooks, flags };
}

it.each([
  ['12 seats over 4 shards for 30 orders: flagged, only once every shard is empty', 12, 30],
  ['40 seats over 4 shards for 12 orders: never flagged', 40, 12],
])('blind holds on a kept catalog, %s', async (_name, seats, orders) => {
  const eventId = await shardEvent(seats, 4);
  const { hooks, flags } = flagRecorder();
  const catalog = new InventoryCatalog();
  const replies = await Promise.all(
    Array.from({ length: orders }, () =>
      handleInventoryCommand(
        reserve(uid('o'), eventId, [{ ticketType: 'GA', quantity: 1 }]),
        participantDeps(aws, { catalog, soldOut: hooks }),
      ),
    ),
  );
  const held = replies.filter((r) => r.type === 'SEATS_RESERVED').length;
  expect(held).toBe(Math.min(seats, orders));
  expect(Math.min(...(await shardAvailability(eventId)))).toBeGreaterThanOrEqual(0);
  // Never a flag while any shard had a seat; and when all went, the hold that took the last flagged it.
  expect(flags.filter((f) => f.availableThen !== 0)).toEqual([]);
  expect(flags.length > 0).toBe(held === seats);
  expect(await violations(eventId)).toEqual([]);
});

it('a shard count raised after the catalog was kept: blind holds still go to a shard that exists', async () => {
  const eventId = uid('legacy');
  await putEventInventory(participantDeps(aws), eventId, 'Legacy', [
    { ticketType: 'GA', totalQuantity: 12, priceMinor: 1000, currency: 'EUR' },
  ]);
  const catalog = new InventoryCatalog();
  await handleInventoryCommand(
    reserve(uid('o'), eventId, [{ ticketType: 'GA', quantity: 1 }]),
    participantDeps(aws, { catalog }),
  );
  await putEventInventory(participantDeps(aws), eventId, 'Legacy', [
    { ticketType: 'GA', totalQuantity: 20, priceMinor: 1000, currency: 'EUR', shards: 4 },
  ]);
  // The kept copy still says 1 shard: the hold goes to shard 0, which exists and has the price.
  const clients = meterClients(createAwsClients(TEST_AWS_CONFIG));
  const calls: MeteredCall[] = [];
  clients.meter.onCall((call) => calls.push(call));
  const orderId = uid('o');
  try {
    const reply = await handleInventoryCommand(
      reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 1 }]),
      participantDeps(aws, { catalog, doc: clients.doc }),
    );
    expect(reply).toMatchObject({ type: 'SEATS_RESERVED', amountMinor: 1000 });
  } finally {
    destroyAwsClients(clients);
  }
  expect(calls.map((c) => c.operation)).toEqual(['TransactWriteItems']);
  expect((await readReservation(participantDeps(aws), orderId))?.shards).toEqual([
    { ticketType: 'GA', shard: 0, quantity: 1 },
  ]);
  expect((await getEventInventory(participantDeps(aws), eventId))?.ticketTypes[0]).toMatchObject({
    availableQuantity: 18,
    takenQuantity: 2,
  });
  expect(await violations(eventId)).toEqual([]);
});

it('the checker names a shard that does not balance', async () => {
  const eventId = await shardEvent(6, 3);
  const rows = await rowsOf(eventId);
  const shard = rows.find((r) => isShardRow(r))!;
  const broken = rows.map((r) => (r === shard ? { ...r, availableQuantity: r.availableQuantity + 1 } : r));
  const found = inventoryViolations(broken, []);
  expect(found.map((v) => [v.kind, v.subject])).toEqual([
    ['inventory-balance', `inventory:${eventId}/GA#${shard.shard}`],
  ]);
  const missing = inventoryViolations(
    rows.filter((r) => r !== shard),
    [],
  );
  expect(missing.map((v) => v.kind).sort()).toEqual(['inventory-balance', 'inventory-shards']);
});
