/**
 * The admitter after sell-out (src/admission/admitter.ts), on the real engines (DynamoDB, SQS,
 * Redis through test/api/harness.ts): a buyer told sold out gives its place back at once, so one
 * pass keeps admitting while places come back — every queued buyer of a sold-out ticket type is
 * told SOLD_OUT in that pass (not one room's worth per tick), exactly once, with no saga; a buyer
 * of another ticket type in the same queue gets its saga, once; a second pass changes nothing.
 * The check (every pass here) leaves a running saga its place.
 */
import { Admitter } from '../../src/admission/admitter';
import { WaitingRoom } from '../../src/admission/waiting-room';
import { SoldOutFlags } from '../../src/cache/sold-out';
import { createLogger } from '../../src/observability/logger';
import { putEventInventory } from '../../src/participants/inventory-admin';
import { soldOutTruth } from '../../src/participants/sold-out-truth';
import type { PlaceOrder } from '../../src/runtime/saga-runtime';
import { createApiHarness, uniqueId, type ApiHarness } from '../api/harness';

jest.setTimeout(120_000);

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness({ label: 'admitter' });
});
afterAll(async () => {
  await h?.close();
});

function anOrder(eventId: string, ticketType: string, i: number): PlaceOrder {
  return {
    orderId: uniqueId(`o${i}`),
    customerId: `buyer-${i}`,
    eventId,
    items: [{ ticketType, quantity: 1 }],
    paymentToken: 'tok_success',
    correlationId: uniqueId('corr'),
    requestHash: `fp-${i}`,
  };
}

it('one pass tells every queued buyer of a sold-out type, once, and places the others', async () => {
  const logger = createLogger('warn');
  const room = new WaitingRoom(h.redis, logger, { keyPrefix: `${h.aws.prefix}adm:`, defaultLimit: 0 });
  const soldOut = new SoldOutFlags(h.cache, soldOutTruth(h.participantDeps));
  // Every pass also checks the admitted orders (checkEveryMs 0).
  const admitter = new Admitter({ room, runtime: h.runtime, store: h.store, logger, soldOut, checkEveryMs: 0 });

  // GA has no seat left (the store says so: the flag is set and survives its verify); VIP has seats.
  const eventId = uniqueId('ev');
  await putEventInventory(h.participantDeps, eventId, 'Flash', [
    { ticketType: 'GA', totalQuantity: 0, priceMinor: 1000, currency: 'EUR' },
    { ticketType: 'VIP', totalQuantity: 5, priceMinor: 5000, currency: 'EUR' },
  ]);
  await soldOut.soldOut(eventId, ['GA']);
  expect(await soldOut.flagged(eventId, ['GA', 'VIP'])).toEqual(['GA']);

  // A room of 2 places, both held; 30 GA buyers queue, then 1 VIP buyer.
  const limit = 2;
  await room.setLimit(eventId, limit);
  const holders = [anOrder(eventId, 'VIP', 1000), anOrder(eventId, 'VIP', 1001)];
  for (const order of holders) expect(await room.enter(order)).toEqual({ admitted: true });
  const ga = Array.from({ length: 30 }, (_, i) => anOrder(eventId, 'GA', i));
  const vip = anOrder(eventId, 'VIP', 30);
  for (const [i, order] of [...ga, vip].entries())
    expect(await room.enter(order)).toMatchObject({ admitted: false, position: i + 1 });

  // The holders' sagas end: 2 places free. One pass.
  for (const order of holders) expect(await room.ended(eventId, order.orderId)).toBe(true);
  await admitter.tick();

  // Every GA buyer: SOLD_OUT, no saga, not waiting, no place held.
  const standings = await Promise.all(ga.map((order) => room.standing(order.orderId)));
  expect(standings.filter((s) => s.state !== 'sold-out')).toEqual([]);
  const sagas = await Promise.all(ga.map((order) => h.store.load(order.orderId)));
  expect(sagas.filter((saga) => saga !== undefined)).toEqual([]);
  // One saga in all (the VIP buyer's), and it holds the one place still taken.
  expect((await h.writes()).orders).toBe(1);
  expect((await h.store.load(vip.orderId))?.orderId).toBe(vip.orderId);
  expect((await room.active(eventId)).map((a) => a.orderId)).toEqual([vip.orderId]);

  // The room's answers for tools (scripts/bench-flash-sale.ts): SOLD_OUT for each GA buyer, none
  // for the VIP buyer (it has a saga) or an order the room never saw.
  expect(await room.endedWithoutSaga([...ga.map((o) => o.orderId), vip.orderId, uniqueId('never')])).toEqual([
    ...ga.map(() => 'sold-out'),
    undefined,
    undefined,
  ]);

  // A told buyer asking again with its key is told again, never queued or placed.
  await expect(room.enter(ga[0])).rejects.toMatchObject({ name: 'EndedWithoutSagaError' });

  // A second pass: nobody waits, nothing changes; the check leaves the running VIP saga its place.
  const before = await h.writes();
  await admitter.tick();
  expect(await h.writes()).toEqual(before);
  expect((await room.active(eventId)).map((a) => a.orderId)).toEqual([vip.orderId]);
});
