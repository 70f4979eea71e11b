/**
 * The inventory participant against the emulator: seats move between available and taken (held,
 * then sold by the reservation's confirm) exactly once per order, however often and in whatever
 * order its commands arrive.
 */
import type { OrderSagaEvent } from '../../machines/order-saga/types';
import { handleInventoryCommand } from '../../src/participants/inventory';
import { putEventInventory } from '../../src/participants/inventory-admin';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { meterClients, type MeteredCall } from '../../src/observability/cost-meter';
import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { readInventoryRows, readReservation } from '../../src/participants/records';
import { InventoryCatalog } from '../../src/participants/inventory-catalog';
import type { ParticipantDeps, SoldOutHooks } from '../../src/participants/deps';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients';
import { createTestAws, injectTransactionConflicts, TEST_AWS_CONFIG, type TestAws } from '../support/aws';
import {
  confirm,
  expectConserved,
  FIXED_NOW,
  heldAndSold,
  participantDeps,
  release,
  reservationsOf,
  reserve,
  uid,
} from './helpers';

let aws: TestAws;
beforeAll(async () => {
  aws = await createTestAws('tinv');
});
afterAll(async () => {
  await aws?.cleanup();
});

async function newEvent(ga = 10, vip = 5): Promise<string> {
  const eventId = uid('event');
  await putEventInventory(participantDeps(aws), eventId, 'Concert', [
    { ticketType: 'GA', totalQuantity: ga, priceMinor: 1999, currency: 'EUR' },
    { ticketType: 'VIP', totalQuantity: vip, priceMinor: 10000, currency: 'EUR' },
  ]);
  return eventId;
}

/**
 * Per ticket type: the available seats (the row), the seats held (ACTIVE reservations) and sold
 * (CONFIRMED ones). The row counts held and sold together as taken (reservedQuantity; soldQuantity
 * only for sales the previous build confirmed): checked to be exactly held + sold.
 */
async function stock(eventId: string): Promise<Record<string, { available: number; reserved: number; sold: number }>> {
  const rows = await readInventoryRows(participantDeps(aws), eventId);
  expectConserved(rows.values());
  const split = heldAndSold(await reservationsOf(aws, eventId));
  return Object.fromEntries(
    [...rows.values()].map((r) => {
      const { reserved, sold } = split.get(r.ticketType) ?? { reserved: 0, sold: 0 };
      expect({ ticketType: r.ticketType, taken: r.reservedQuantity + r.soldQuantity }).toEqual({
        ticketType: r.ticketType,
        taken: reserved + sold,
      });
      return [r.ticketType, { available: r.availableQuantity, reserved, sold }];
    }),
  );
}

/** The DynamoDB operations `fn` made through its deps, in order (the cost meter's own record). */
async function operationsOf(
  fn: (deps: ReturnType<typeof participantDeps>) => Promise<unknown>,
  overrides: Partial<ParticipantDeps> = {},
): Promise<string[]> {
  const clients = meterClients(createAwsClients(TEST_AWS_CONFIG));
  const calls: MeteredCall[] = [];
  clients.meter.onCall((call) => calls.push(call));
  try {
    await fn(participantDeps(aws, { ...overrides, doc: clients.doc }));
  } finally {
    destroyAwsClients(clients);
  }
  return calls.map((c) => c.operation);
}

/**
 * Sold-out hooks that record each flag with the seats the store held for it when it was raised
 * (read consistently right then): with no release running, a right flag finds 0.
 */
function flagRecorder(): { hooks: SoldOutHooks; flags: Array<{ ticketType: string; availableThen: number }> } {
  const flags: Array<{ ticketType: string; availableThen: number }> = [];
  const hooks: SoldOutHooks = {
    soldOut: async (eventId, ticketTypes) => {
      const rows = await readInventoryRows(participantDeps(aws), eventId);
      for (const t of ticketTypes) flags.push({ ticketType: t, availableThen: rows.get(t)?.availableQuantity ?? -1 });
    },
    seatsReturned: async () => {},
  };
  return { hooks, flags };
}

describe('ReserveSeats', () => {
  it('holds the seats and prices them from the inventory', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    const deps = participantDeps(aws, { now: () => FIXED_NOW });

    const reply = await handleInventoryCommand(
      reserve(
        orderId,
        eventId,
        [
          { ticketType: 'GA', quantity: 3 },
          { ticketType: 'VIP', quantity: 1 },
        ],
        900,
      ),
      deps,
    );

    expect(reply).toEqual({
      type: 'SEATS_RESERVED',
      reservationId: orderId,
      expiresAt: '2030-01-01T12:15:00.000Z',
      amountMinor: 15997,
      currency: 'EUR',
    });
    expect(await stock(eventId)).toEqual({
      GA: { available: 7, reserved: 3, sold: 0 },
      VIP: { available: 4, reserved: 1, sold: 0 },
    });
    const record = await readReservation(deps, orderId);
    expect(record).toMatchObject({ status: 'ACTIVE', orderId, eventId, amountMinor: 15997, currency: 'EUR' });
    expect(deps.recorder.changedEvents).toEqual([eventId]);
  });

  it('adds up a ticket type listed twice', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    const reply = await handleInventoryCommand(
      reserve(orderId, eventId, [
        { ticketType: 'GA', quantity: 1 },
        { ticketType: 'GA', quantity: 2 },
      ]),
      participantDeps(aws),
    );
    expect(reply).toMatchObject({ type: 'SEATS_RESERVED', amountMinor: 5997 });
    expect((await stock(eventId)).GA).toEqual({ available: 7, reserved: 3, sold: 0 });
  });

  it('handles the same command twice as one reservation, with the same reply', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    const deps = participantDeps(aws);
    const cmd = reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 2 }]);

    const first = await handleInventoryCommand(cmd, deps);
    const second = await handleInventoryCommand(
      cmd,
      participantDeps(aws, { now: () => new Date(Date.now() + 60_000) }),
    );

    expect(second).toEqual(first);
    expect((await stock(eventId)).GA).toEqual({ available: 8, reserved: 2, sold: 0 });
    expect(await reservationsOf(aws, eventId)).toHaveLength(1);
  });

  it('handles concurrent duplicates of one command as one reservation', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    const cmd = reserve(orderId, eventId, [{ ticketType: 'VIP', quantity: 2 }]);
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => handleInventoryCommand(cmd, participantDeps(aws))),
    );
    for (const reply of replies) expect(reply).toEqual(replies[0]);
    expect((await stock(eventId)).VIP).toEqual({ available: 3, reserved: 2, sold: 0 });
  });

  it('rejects a sold-out request, holds nothing, and says the same on redelivery after stock came back', async () => {
    const eventId = await newEvent(2, 1);
    const orderId = uid('order');
    const cmd = reserve(orderId, eventId, [
      { ticketType: 'GA', quantity: 1 },
      { ticketType: 'VIP', quantity: 2 },
    ]);

    const first = await handleInventoryCommand(cmd, participantDeps(aws));
    expect(first).toEqual({ type: 'SEATS_UNAVAILABLE', reason: expect.stringContaining('VIP') });
    expect(await stock(eventId)).toEqual({
      GA: { available: 2, reserved: 0, sold: 0 },
      VIP: { available: 1, reserved: 0, sold: 0 },
    });
    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({ status: 'REJECTED' });

    await putEventInventory(participantDeps(aws), eventId, 'Concert', [
      { ticketType: 'VIP', totalQuantity: 10, priceMinor: 10000, currency: 'EUR' },
    ]);
    const redelivered = await handleInventoryCommand(cmd, participantDeps(aws));

    expect(redelivered).toEqual(first);
    expect((await stock(eventId)).VIP).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it.each([
    ['an unknown event', 'no-such-event', [{ ticketType: 'GA', quantity: 1 }], /unknown event/],
    ['an unknown ticket type', null, [{ ticketType: 'BALCONY', quantity: 1 }], /unknown ticket type BALCONY/],
    ['a zero quantity', null, [{ ticketType: 'GA', quantity: 0 }], /invalid quantity/],
    ['a fractional quantity', null, [{ ticketType: 'GA', quantity: 1.5 }], /invalid quantity/],
    ['no items', null, [], /no items/],
  ])('rejects %s and records the rejection', async (_name, givenEvent, items, reason) => {
    const eventId = givenEvent ?? (await newEvent());
    const orderId = uid('order');
    const reply = await handleInventoryCommand(reserve(orderId, eventId, items), participantDeps(aws));
    expect(reply).toEqual({ type: 'SEATS_UNAVAILABLE', reason: expect.stringMatching(reason) });
    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({ status: 'REJECTED' });
    if (givenEvent === null) {
      expect((await stock(eventId)).GA).toEqual({ available: 10, reserved: 0, sold: 0 });
    }
  });

  it('sells exactly the stock to 50 concurrent orders for 20 seats', async () => {
    const eventId = uid('event');
    await putEventInventory(participantDeps(aws), eventId, 'Rush', [
      { ticketType: 'GA', totalQuantity: 20, priceMinor: 1000, currency: 'EUR' },
    ]);

    const replies = await Promise.all(
      Array.from({ length: 50 }, () =>
        handleInventoryCommand(
          reserve(uid('rush'), eventId, [{ ticketType: 'GA', quantity: 1 }]),
          participantDeps(aws),
        ),
      ),
    );

    const count = (type: OrderSagaEvent['type']) => replies.filter((r) => r.type === type).length;
    expect({ reserved: count('SEATS_RESERVED'), unavailable: count('SEATS_UNAVAILABLE') }).toEqual({
      reserved: 20,
      unavailable: 30,
    });
    expect((await stock(eventId)).GA).toEqual({ available: 0, reserved: 20, sold: 0 });
    const reservations = await reservationsOf(aws, eventId);
    expect(reservations.filter((r) => r.status === 'ACTIVE')).toHaveLength(20);
    expect(reservations.filter((r) => r.status === 'REJECTED')).toHaveLength(30);
    expect(heldAndSold(reservations).get('GA')).toEqual({ reserved: 20, sold: 0 });
  });

  it('retries a transaction AWS cancels with TransactionConflict, after a jittered backoff', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    const clients = createAwsClients(TEST_AWS_CONFIG);
    const conflicts = injectTransactionConflicts(clients, 2);
    try {
      const deps = participantDeps(aws, { doc: clients.doc });
      const reply = await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 1 }]), deps);
      expect(reply).toMatchObject({ type: 'SEATS_RESERVED', reservationId: orderId });
      expect(conflicts.injected).toBe(2);
      expect(deps.recorder.sleeps).toHaveLength(2);
      expect((await stock(eventId)).GA).toEqual({ available: 9, reserved: 1, sold: 0 });
    } finally {
      destroyAwsClients(clients);
    }
  });
});

describe('ReserveSeats on the catalog the worker keeps (issue 25)', () => {
  it('holds blind on the kept prices in one TransactWriteItems, and reads nothing after a hold that leaves seats', async () => {
    const eventId = await newEvent();
    const { hooks, flags } = flagRecorder();
    const deps = { catalog: new InventoryCatalog(), soldOut: hooks };
    const hold = (orderId: string) => (d: ParticipantDeps) =>
      handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 2 }]), d);

    // The first hold of the event reads its rows (and keeps them); the next one only writes.
    expect(await operationsOf(hold(uid('order')), deps)).toEqual(['Query', 'TransactWriteItems']);
    const orderId = uid('order');
    expect(await operationsOf(hold(orderId), deps)).toEqual(['TransactWriteItems']);

    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({ status: 'ACTIVE', amountMinor: 3998 });
    expect((await stock(eventId)).GA).toEqual({ available: 6, reserved: 4, sold: 0 });
    expect(flags).toEqual([]);
  });

  it('the hold that takes the last seats flags the sell-out without a read after its commit', async () => {
    const eventId = await newEvent(3, 5);
    const { hooks, flags } = flagRecorder();
    const deps = { catalog: new InventoryCatalog(), soldOut: hooks };
    const hold = (quantity: number) => (d: ParticipantDeps) =>
      handleInventoryCommand(reserve(uid('order'), eventId, [{ ticketType: 'GA', quantity }]), d);

    expect(await operationsOf(hold(2), deps)).toEqual(['Query', 'TransactWriteItems']);
    expect(flags).toEqual([]);
    // 1 seat left, 1 asked: the blind hold must keep a seat, so it fails; the read way takes the
    // last seat and knows from its read that none is left (nothing read after the commit).
    expect(await operationsOf(hold(1), deps)).toEqual([
      'TransactWriteItems',
      'Query',
      'BatchGetItem',
      'TransactWriteItems',
    ]);
    expect(flags).toEqual([{ ticketType: 'GA', availableThen: 0 }]);
    expect((await stock(eventId)).GA).toEqual({ available: 0, reserved: 3, sold: 0 });

    // The next order is refused on rows read, with the reason the rows give.
    const next = uid('order');
    await operationsOf(
      (d) => handleInventoryCommand(reserve(next, eventId, [{ ticketType: 'GA', quantity: 1 }]), d),
      deps,
    );
    expect(await readReservation(participantDeps(aws), next)).toMatchObject({
      status: 'REJECTED',
      reason: 'sold out: 0 GA left, 1 requested',
    });
  });

  it.each([
    ['20 seats for 50 orders: flagged, only once none is left', 20, 50],
    ['30 seats for 20 orders: never flagged', 30, 20],
  ])('concurrent holds on one kept catalog, %s', async (_name, seats, orders) => {
    const eventId = uid('event');
    await putEventInventory(participantDeps(aws), eventId, 'Rush', [
      { ticketType: 'GA', totalQuantity: seats, priceMinor: 1000, currency: 'EUR' },
    ]);
    const { hooks, flags } = flagRecorder();
    const catalog = new InventoryCatalog();
    const replies = await Promise.all(
      Array.from({ length: orders }, () =>
        handleInventoryCommand(
          reserve(uid('rush'), eventId, [{ ticketType: 'GA', quantity: 1 }]),
          participantDeps(aws, { catalog, soldOut: hooks }),
        ),
      ),
    );
    const held = replies.filter((r) => r.type === 'SEATS_RESERVED').length;
    expect(held).toBe(Math.min(seats, orders));
    expect((await stock(eventId)).GA).toEqual({ available: seats - held, reserved: held, sold: 0 });
    // Never a flag while a seat was left; and when all went, the hold that took the last flagged it.
    expect(flags.filter((f) => f.availableThen !== 0)).toEqual([]);
    expect(flags.length > 0).toBe(held === seats);
  });

  it('a price changed after the catalog was kept: the condition catches it, the order pays the new price', async () => {
    const eventId = await newEvent();
    const catalog = new InventoryCatalog();
    await handleInventoryCommand(
      reserve(uid('order'), eventId, [{ ticketType: 'GA', quantity: 1 }]),
      participantDeps(aws, { catalog }),
    );
    await putEventInventory(participantDeps(aws), eventId, 'Concert', [
      { ticketType: 'GA', totalQuantity: 10, priceMinor: 2500, currency: 'EUR' },
    ]);
    const orderId = uid('order');
    const reply = await handleInventoryCommand(
      reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 2 }]),
      participantDeps(aws, { catalog }),
    );
    expect(reply).toMatchObject({ type: 'SEATS_RESERVED', amountMinor: 5000, currency: 'EUR' });
    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({
      amountMinor: 5000,
      items: [{ ticketType: 'GA', quantity: 2, unitPriceMinor: 2500 }],
    });
    expect((await stock(eventId)).GA).toEqual({ available: 7, reserved: 3, sold: 0 });
    // The catalog now keeps the new price: the next hold is blind again.
    expect(
      await operationsOf(
        (d) => handleInventoryCommand(reserve(uid('order'), eventId, [{ ticketType: 'GA', quantity: 1 }]), d),
        { catalog },
      ),
    ).toEqual(['TransactWriteItems']);
  });

  it('a ticket type added after the catalog was kept is read, not refused', async () => {
    const eventId = await newEvent();
    const catalog = new InventoryCatalog();
    await handleInventoryCommand(
      reserve(uid('order'), eventId, [{ ticketType: 'GA', quantity: 1 }]),
      participantDeps(aws, { catalog }),
    );
    await putEventInventory(participantDeps(aws), eventId, 'Concert', [
      { ticketType: 'BALCONY', totalQuantity: 4, priceMinor: 3000, currency: 'EUR' },
    ]);
    const reply = await handleInventoryCommand(
      reserve(uid('order'), eventId, [{ ticketType: 'BALCONY', quantity: 2 }]),
      participantDeps(aws, { catalog }),
    );
    expect(reply).toMatchObject({ type: 'SEATS_RESERVED', amountMinor: 6000 });
    expect((await stock(eventId)).BALCONY).toEqual({ available: 2, reserved: 2, sold: 0 });
  });
});

describe('ReleaseSeats', () => {
  it('returns held seats once, however often it is delivered', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 4 }]), participantDeps(aws));
    const deps = participantDeps(aws);

    expect(await handleInventoryCommand(release(orderId), deps)).toEqual({ type: 'SEATS_RELEASED' });
    expect(await handleInventoryCommand(release(orderId), deps)).toEqual({ type: 'SEATS_RELEASED' });

    expect((await stock(eventId)).GA).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await readReservation(deps, orderId)).toMatchObject({ status: 'RELEASED' });
    expect(deps.recorder.changedEvents).toEqual([eventId]);
  });

  it('records a hold that ran out as EXPIRED', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'VIP', quantity: 2 }]), participantDeps(aws));

    expect(await handleInventoryCommand(release(orderId, 'EXPIRED'), participantDeps(aws))).toEqual({
      type: 'SEATS_RELEASED',
    });

    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({ status: 'EXPIRED' });
    expect((await stock(eventId)).VIP).toEqual({ available: 5, reserved: 0, sold: 0 });
  });

  it('acknowledges releasing a rejected reservation without touching stock', async () => {
    const eventId = await newEvent(1, 1);
    const orderId = uid('order');
    await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 5 }]), participantDeps(aws));
    expect(await handleInventoryCommand(release(orderId), participantDeps(aws))).toEqual({ type: 'SEATS_RELEASED' });
    expect((await stock(eventId)).GA).toEqual({ available: 1, reserved: 0, sold: 0 });
  });

  it('leaves a tombstone when it comes before the reservation, so a late ReserveSeats holds nothing', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');

    expect(await handleInventoryCommand(release(orderId), participantDeps(aws))).toEqual({ type: 'SEATS_RELEASED' });
    const late = await handleInventoryCommand(
      reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 2 }]),
      participantDeps(aws),
    );

    expect(late).toEqual({ type: 'SEATS_UNAVAILABLE', reason: expect.stringMatching(/released before/) });
    expect((await stock(eventId)).GA).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({
      status: 'RELEASED',
      tombstone: true,
      items: [],
    });
  });

  it('a ReserveSeats re-delivered after the release replies what it recorded and holds nothing again', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    const cmd = reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 2 }]);
    const first = await handleInventoryCommand(cmd, participantDeps(aws));
    await handleInventoryCommand(release(orderId), participantDeps(aws));

    expect(await handleInventoryCommand(cmd, participantDeps(aws))).toEqual(first);
    expect((await stock(eventId)).GA).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('gives sold seats back when the saga compensates a paid order, once however often it is delivered', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 2 }]), participantDeps(aws));
    await handleInventoryCommand(confirm(orderId), participantDeps(aws));
    expect((await stock(eventId)).GA).toEqual({ available: 8, reserved: 0, sold: 2 });

    expect(await handleInventoryCommand(release(orderId), participantDeps(aws))).toEqual({ type: 'SEATS_RELEASED' });
    expect(await handleInventoryCommand(release(orderId), participantDeps(aws))).toEqual({ type: 'SEATS_RELEASED' });
    expect((await stock(eventId)).GA).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({ status: 'RELEASED' });
    // The confirm, delivered again late, sells nothing and says the seats are released.
    expect(await handleInventoryCommand(confirm(orderId), participantDeps(aws))).toEqual({ type: 'SEATS_RELEASED' });
    expect((await stock(eventId)).GA).toEqual({ available: 10, reserved: 0, sold: 0 });
  });
});

describe('ConfirmSeats', () => {
  it('turns held seats into sold ones once, however often it is delivered', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    await handleInventoryCommand(
      reserve(orderId, eventId, [
        { ticketType: 'GA', quantity: 2 },
        { ticketType: 'VIP', quantity: 1 },
      ]),
      participantDeps(aws),
    );

    expect(await handleInventoryCommand(confirm(orderId), participantDeps(aws))).toEqual({ type: 'SEATS_CONFIRMED' });
    expect(await handleInventoryCommand(confirm(orderId), participantDeps(aws))).toEqual({ type: 'SEATS_CONFIRMED' });

    expect(await stock(eventId)).toEqual({
      GA: { available: 8, reserved: 0, sold: 2 },
      VIP: { available: 4, reserved: 0, sold: 1 },
    });
    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({ status: 'CONFIRMED' });
  });

  it('a hold that ends keeps its expiry as heldUntil, read back as expiresAt (the table has no index: issue 25)', async () => {
    const eventId = await newEvent();
    const [confirmed, released, expired] = [uid('order'), uid('order'), uid('order')];
    const deps = participantDeps(aws, { now: () => FIXED_NOW });
    const held = await Promise.all(
      [confirmed, released, expired].map((orderId) =>
        handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 1 }], 900), deps),
      ),
    );
    // An ACTIVE hold stores its expiry as expiresAt.
    expect(await readReservation(deps, released)).toMatchObject({
      status: 'ACTIVE',
      expiresAt: '2030-01-01T12:15:00.000Z',
    });

    await handleInventoryCommand(confirm(confirmed), deps);
    await handleInventoryCommand(release(released), deps);
    await handleInventoryCommand(release(expired, 'EXPIRED'), deps);

    for (const [orderId, status] of [
      [released, 'RELEASED'],
      [expired, 'EXPIRED'],
    ] as const) {
      expect(await readReservation(deps, orderId)).toMatchObject({ status, expiresAt: '2030-01-01T12:15:00.000Z' });
    }
    // As stored: the expiry under heldUntil; as read: expiresAt, as before.
    const { Item } = await aws.clients.doc.send(
      new GetCommand({
        TableName: aws.names.tables.reservations,
        Key: { reservationId: confirmed },
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({ status: 'CONFIRMED', heldUntil: '2030-01-01T12:15:00.000Z' });
    expect(Item?.expiresAt).toBeUndefined();
    expect(await readReservation(deps, confirmed)).toMatchObject({
      status: 'CONFIRMED',
      expiresAt: '2030-01-01T12:15:00.000Z',
    });
    // A ReserveSeats re-delivered after the confirm replies what the first delivery did.
    expect(
      await handleInventoryCommand(reserve(confirmed, eventId, [{ ticketType: 'GA', quantity: 1 }], 900), deps),
    ).toEqual(held[0]);
    expect((await stock(eventId)).GA).toEqual({ available: 9, reserved: 0, sold: 1 });
  });

  it('never sells a released seat: a confirm after the release answers SEATS_RELEASED; rejected or missing is refused', async () => {
    const eventId = await newEvent(1, 1);
    const released = uid('order');
    await handleInventoryCommand(reserve(released, eventId, [{ ticketType: 'GA', quantity: 1 }]), participantDeps(aws));
    await handleInventoryCommand(release(released), participantDeps(aws));
    const rejected = uid('order');
    await handleInventoryCommand(
      reserve(rejected, eventId, [{ ticketType: 'VIP', quantity: 9 }]),
      participantDeps(aws),
    );

    expect(await handleInventoryCommand(confirm(released), participantDeps(aws))).toEqual({ type: 'SEATS_RELEASED' });
    await expect(handleInventoryCommand(confirm(rejected), participantDeps(aws))).rejects.toThrow(/REJECTED/);
    await expect(handleInventoryCommand(confirm(uid('order')), participantDeps(aws))).rejects.toThrow(/missing/);
    expect(await stock(eventId)).toEqual({
      GA: { available: 1, reserved: 0, sold: 0 },
      VIP: { available: 1, reserved: 0, sold: 0 },
    });
  });

  it('is one write: a conditional UpdateItem of the reservation, the inventory not written (issue 25)', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 2 }]), participantDeps(aws));
    const clients = meterClients(createAwsClients(TEST_AWS_CONFIG));
    const calls: MeteredCall[] = [];
    clients.meter.onCall((call) => calls.push(call));
    try {
      const deps = participantDeps(aws, { doc: clients.doc });
      expect(await handleInventoryCommand(confirm(orderId), deps)).toEqual({ type: 'SEATS_CONFIRMED' });
      // Not even a read first: the write's condition is the check.
      expect(calls.map((c) => c.operation)).toEqual(['UpdateItem']);
      const writes = calls;
      // The engine's own report: the reservations table (no index since issue 25), nothing else;
      // the reservation is under 1 KB: 1 WRU where the transaction cost 6.
      const targets = writes.flatMap((c) => c.byTarget ?? []);
      expect(targets.map((t) => [t.table, t.index])).toEqual([[aws.names.tables.reservations, undefined]]);
      expect(writes[0].wru).toBe(1);

      // Delivered again after it succeeded: the same answer from the one write, whose condition
      // failed and handed back the reservation as it was (ALL_OLD); nothing changed.
      const before = await readReservation(participantDeps(aws), orderId);
      calls.length = 0;
      expect(await handleInventoryCommand(confirm(orderId), deps)).toEqual({ type: 'SEATS_CONFIRMED' });
      expect(calls.map((c) => c.operation)).toEqual(['UpdateItem']);
      expect(await readReservation(participantDeps(aws), orderId)).toEqual(before);
    } finally {
      destroyAwsClients(clients);
    }
    expect((await stock(eventId)).GA).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(await readReservation(participantDeps(aws), orderId)).toMatchObject({
      status: 'CONFIRMED',
      seatsStayTaken: true,
    });
  });

  it('answers a late or misplaced confirm from its one write: released, rejected, missing (nothing created)', async () => {
    const eventId = await newEvent(1, 1);
    const released = uid('order');
    await handleInventoryCommand(reserve(released, eventId, [{ ticketType: 'GA', quantity: 1 }]), participantDeps(aws));
    await handleInventoryCommand(release(released), participantDeps(aws));
    const rejected = uid('order');
    await handleInventoryCommand(
      reserve(rejected, eventId, [{ ticketType: 'VIP', quantity: 9 }]),
      participantDeps(aws),
    );
    const missing = uid('order');
    const before = await readReservation(participantDeps(aws), released);

    let reply: OrderSagaEvent | undefined;
    expect(
      await operationsOf(async (d) => {
        reply = await handleInventoryCommand(confirm(released), d);
      }),
    ).toEqual(['UpdateItem']);
    expect(reply).toEqual({ type: 'SEATS_RELEASED' });
    expect(await readReservation(participantDeps(aws), released)).toEqual(before);

    for (const [orderId, said] of [
      [rejected, /it is REJECTED/],
      [missing, /it is missing/],
    ] as const) {
      expect(
        await operationsOf(async (d) => {
          await expect(handleInventoryCommand(confirm(orderId), d)).rejects.toMatchObject({
            name: 'PermanentCommandError',
            code: 'illegal-state',
            message: expect.stringMatching(said),
          });
        }),
      ).toEqual(['UpdateItem']);
    }
    // The conditional write on a key with no item creates none.
    expect(await readReservation(participantDeps(aws), missing)).toBeUndefined();
    expect(await stock(eventId)).toEqual({
      GA: { available: 1, reserved: 0, sold: 0 },
      VIP: { available: 1, reserved: 0, sold: 0 },
    });
  });

  it('confirms an ACTIVE reservation that has no expiry to move, with a second write that moves none', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 1 }]), participantDeps(aws));
    await aws.clients.doc.send(
      new UpdateCommand({
        TableName: aws.names.tables.reservations,
        Key: { reservationId: orderId },
        UpdateExpression: 'REMOVE expiresAt',
      }),
    );
    let reply: OrderSagaEvent | undefined;
    expect(
      await operationsOf(async (d) => {
        reply = await handleInventoryCommand(confirm(orderId), d);
      }),
    ).toEqual(['UpdateItem', 'UpdateItem']);
    expect(reply).toEqual({ type: 'SEATS_CONFIRMED' });
    const stored = await readReservation(participantDeps(aws), orderId);
    expect(stored).toMatchObject({ status: 'CONFIRMED', seatsStayTaken: true });
    expect(stored?.heldUntil).toBeUndefined();
    expect((await stock(eventId)).GA).toEqual({ available: 9, reserved: 0, sold: 1 });
  });

  it("waits and retries when a release's transaction holds the reservation (TransactionConflict)", async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 1 }]), participantDeps(aws));
    const clients = createAwsClients(TEST_AWS_CONFIG);
    let injected = 0;
    // What DynamoDB answers a single-item write that meets a transaction in flight on the item.
    clients.ddb.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && injected === 0) {
          injected++;
          throw new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectUpdateConflict' },
    );
    try {
      const deps = participantDeps(aws, { doc: clients.doc });
      expect(await handleInventoryCommand(confirm(orderId), deps)).toEqual({ type: 'SEATS_CONFIRMED' });
      expect(injected).toBe(1);
      expect(deps.recorder.sleeps).toHaveLength(1);
    } finally {
      destroyAwsClients(clients);
    }
    expect((await stock(eventId)).GA).toEqual({ available: 9, reserved: 0, sold: 1 });
  });

  it('a confirm racing an expiry: exactly one wins, and the seats follow the winner', async () => {
    const eventId = await newEvent(12, 1);
    const orders = Array.from({ length: 12 }, () => uid('order'));
    for (const orderId of orders) {
      await handleInventoryCommand(
        reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 1 }]),
        participantDeps(aws),
      );
    }
    const settled = async <T>(p: Promise<T>) =>
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    const outcomes = await Promise.all(
      orders.map(async (orderId) => {
        const [confirmed, expired] = await Promise.all([
          settled(handleInventoryCommand(confirm(orderId), participantDeps(aws))),
          settled(handleInventoryCommand(release(orderId, 'EXPIRED'), participantDeps(aws))),
        ]);
        return { orderId, confirmed, expired };
      }),
    );
    let sold = 0;
    for (const { orderId, confirmed, expired } of outcomes) {
      const status = (await readReservation(participantDeps(aws), orderId))?.status;
      if (status === 'CONFIRMED') {
        // The confirm won; the expiry that came second was refused, the seat stays sold.
        sold++;
        expect(confirmed).toEqual({ value: { type: 'SEATS_CONFIRMED' } });
        expect(expired).toMatchObject({ error: { name: 'PermanentCommandError', code: 'illegal-state' } });
      } else {
        // The expiry won; the confirm that came second was told the seats are released.
        expect(status).toBe('EXPIRED');
        expect(expired).toEqual({ value: { type: 'SEATS_RELEASED' } });
        expect(confirmed).toEqual({ value: { type: 'SEATS_RELEASED' } });
      }
    }
    // stock() checks the row's taken seats against the reservations: none counted twice or lost.
    expect((await stock(eventId)).GA).toEqual({ available: 12 - sold, reserved: 0, sold });
  });

  it('gives back the seats of a sale the previous build confirmed (moved to soldQuantity)', async () => {
    const eventId = await newEvent();
    const orderId = uid('order');
    await handleInventoryCommand(reserve(orderId, eventId, [{ ticketType: 'GA', quantity: 2 }]), participantDeps(aws));
    // What the previous build's confirm wrote: the status without the marker, the seats moved to sold.
    await aws.clients.doc.send(
      new UpdateCommand({
        TableName: aws.names.tables.reservations,
        Key: { reservationId: orderId },
        UpdateExpression: 'SET #s = :c',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':c': 'CONFIRMED' },
      }),
    );
    await aws.clients.doc.send(
      new UpdateCommand({
        TableName: aws.names.tables.inventory,
        Key: { eventId, ticketType: 'GA' },
        UpdateExpression: 'SET reservedQuantity = reservedQuantity - :q, soldQuantity = soldQuantity + :q',
        ExpressionAttributeValues: { ':q': 2 },
      }),
    );
    expect((await stock(eventId)).GA).toEqual({ available: 8, reserved: 0, sold: 2 });

    expect(await handleInventoryCommand(release(orderId), participantDeps(aws))).toEqual({ type: 'SEATS_RELEASED' });
    const rows = await readInventoryRows(participantDeps(aws), eventId);
    expect(rows.get('GA')).toMatchObject({ availableQuantity: 10, reservedQuantity: 0, soldQuantity: 0 });
  });

  it('rejects a command without a reservation id as malformed', async () => {
    await expect(handleInventoryCommand(confirm(uid('order'), ''), participantDeps(aws))).rejects.toMatchObject({
      name: 'PermanentCommandError',
      code: 'invalid-command',
    });
  });
});
