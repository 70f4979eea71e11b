/** Inventory administration: creating ticket types and changing their totals without losing seats. */
import { InvalidInventoryError, InventoryConflictError } from '../../src/participants/errors';
import { handleInventoryCommand } from '../../src/participants/inventory';
import { getEventInventory, putEventInventory, type TicketTypeInput } from '../../src/participants/inventory-admin';
import { readInventoryRows } from '../../src/participants/records';
import { createTestAws, type TestAws } from '../support/aws';
import { confirm, expectConserved, participantDeps, reserve, uid } from './helpers';

let aws: TestAws;
beforeAll(async () => {
  aws = await createTestAws('tadm');
});
afterAll(async () => {
  await aws?.cleanup();
});

const ga = (totalQuantity: number, priceMinor = 2500): TicketTypeInput => ({
  ticketType: 'GA',
  totalQuantity,
  priceMinor,
  currency: 'EUR',
});

it('creates ticket types with every seat available, at version 1', async () => {
  const eventId = uid('event');
  const deps = participantDeps(aws);
  const created = await putEventInventory(deps, eventId, 'Opening night', [
    ga(100),
    { ticketType: 'VIP', totalQuantity: 10, priceMinor: 12000, currency: 'EUR' },
  ]);

  expect(created).toEqual({
    eventId,
    eventName: 'Opening night',
    ticketTypes: [
      expect.objectContaining({
        ticketType: 'GA',
        totalQuantity: 100,
        availableQuantity: 100,
        takenQuantity: 0,
        priceMinor: 2500,
        version: 1,
      }),
      expect.objectContaining({
        ticketType: 'VIP',
        totalQuantity: 10,
        availableQuantity: 10,
        takenQuantity: 0,
        priceMinor: 12000,
        version: 1,
      }),
    ],
  });
  expect(await getEventInventory(deps, eventId)).toEqual(created);
  expect(deps.recorder.changedEvents).toEqual([eventId]);
});

it('returns null for an event without inventory', async () => {
  expect(await getEventInventory(participantDeps(aws), uid('event'))).toBeNull();
});

it('moves availability by the change in total, keeping reserved and sold seats', async () => {
  const eventId = uid('event');
  await putEventInventory(participantDeps(aws), eventId, 'Gig', [ga(10)]);
  const sold = uid('order');
  await handleInventoryCommand(reserve(sold, eventId, [{ ticketType: 'GA', quantity: 2 }]), participantDeps(aws));
  await handleInventoryCommand(confirm(sold), participantDeps(aws));
  await handleInventoryCommand(
    reserve(uid('order'), eventId, [{ ticketType: 'GA', quantity: 3 }]),
    participantDeps(aws),
  );

  const grown = await putEventInventory(participantDeps(aws), eventId, 'Gig', [ga(15, 3000)]);
  expect(grown.ticketTypes[0]).toMatchObject({
    totalQuantity: 15,
    availableQuantity: 10,
    // 3 held and 2 sold: taken (the sale's confirm left the row alone).
    takenQuantity: 5,
    priceMinor: 3000,
  });

  const shrunk = await putEventInventory(participantDeps(aws), eventId, 'Gig', [ga(5, 3000)]);
  expect(shrunk.ticketTypes[0]).toMatchObject({
    totalQuantity: 5,
    availableQuantity: 0,
    takenQuantity: 5,
  });
  expectConserved((await readInventoryRows(participantDeps(aws), eventId)).values());
});

it('refuses to shrink below the seats already reserved or sold, and changes nothing', async () => {
  const eventId = uid('event');
  await putEventInventory(participantDeps(aws), eventId, 'Gig', [
    ga(10),
    { ticketType: 'VIP', totalQuantity: 4, priceMinor: 9000, currency: 'EUR' },
  ]);
  await handleInventoryCommand(
    reserve(uid('order'), eventId, [{ ticketType: 'GA', quantity: 6 }]),
    participantDeps(aws),
  );
  const before = await getEventInventory(participantDeps(aws), eventId);

  const attempt = putEventInventory(participantDeps(aws), eventId, 'Gig', [
    { ticketType: 'VIP', totalQuantity: 8, priceMinor: 9000, currency: 'EUR' },
    ga(5),
  ]);

  await expect(attempt).rejects.toThrow(InventoryConflictError);
  await expect(attempt).rejects.toMatchObject({
    details: { eventId, ticketType: 'GA', availableQuantity: 4, delta: -5 },
  });
  expect(await getEventInventory(participantDeps(aws), eventId)).toEqual(before);
});

it('keeps ticket types the request leaves out', async () => {
  const eventId = uid('event');
  await putEventInventory(participantDeps(aws), eventId, 'Gig', [ga(10)]);
  const after = await putEventInventory(participantDeps(aws), eventId, 'Gig (moved)', [
    { ticketType: 'BALCONY', totalQuantity: 3, priceMinor: 4000, currency: 'EUR' },
  ]);
  expect(after.ticketTypes.map((t) => [t.ticketType, t.totalQuantity])).toEqual([
    ['BALCONY', 3],
    ['GA', 10],
  ]);
  expect(after.eventName).toBe('Gig (moved)');
});

it('applies concurrent changes of the total one after the other', async () => {
  const eventId = uid('event');
  await putEventInventory(participantDeps(aws), eventId, 'Gig', [ga(10)]);
  await handleInventoryCommand(
    reserve(uid('order'), eventId, [{ ticketType: 'GA', quantity: 4 }]),
    participantDeps(aws),
  );

  const results = await Promise.allSettled(
    [20, 12, 30, 8].map((total) => putEventInventory(participantDeps(aws), eventId, 'Gig', [ga(total)])),
  );

  expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
  const rows = await readInventoryRows(participantDeps(aws), eventId);
  expectConserved(rows.values());
  const row = rows.get('GA');
  expect(row?.reservedQuantity).toBe(4);
  expect([20, 12, 30, 8]).toContain(row?.totalQuantity);
});

it.each([
  ['a negative total', [ga(-1)]],
  ['a fractional total', [ga(1.5)]],
  ['a negative price', [ga(1, -200)]],
  ['a bad currency', [{ ticketType: 'GA', totalQuantity: 1, priceMinor: 100, currency: 'euro' }]],
  ['a ticket type listed twice', [ga(1), ga(2)]],
  ['no ticket types', []],
])('rejects %s', async (_name, ticketTypes) => {
  await expect(putEventInventory(participantDeps(aws), uid('event'), 'Gig', ticketTypes)).rejects.toThrow(
    InvalidInventoryError,
  );
});
