/**
 * Organizers own their events (issue 22): the organizer who first writes an event id owns it; only
 * the owner or operator-repair may change its inventory, prices or admission limit; anyone else
 * gets 403 and nothing changes. Events written before ownership (no claim) are changed only by
 * operator-repair until assignEventOwner (npm run event-owner) gives them an owner. Real HTTP
 * (supertest), real DynamoDB and Redis (test/api/harness.ts).
 */
import request from 'supertest';
import { assignEventOwner, putEventInventory } from '../../src/participants';
import { readEventOwner } from '../../src/participants/event-owner';
import { WaitingRoom } from '../../src/admission/waiting-room';
import { createLogger } from '../../src/observability/logger';
import { as, bearer } from '../support/auth';
import { createApiHarness, PROBLEM_JSON, uniqueId, type ApiHarness } from './harness';

jest.setTimeout(120_000);

let h: ApiHarness;
let room: WaitingRoom;

beforeAll(async () => {
  h = await createApiHarness({ label: 'own' });
  room = new WaitingRoom(h.redis, createLogger('warn'), { keyPrefix: h.aws.prefix, defaultLimit: 0 });
});
afterAll(async () => {
  await h?.close();
});

const inventoryBody = (price: number, total = 100, ticketType = 'GA') => ({
  eventName: 'Owned',
  ticketTypes: [{ ticketType, totalQuantity: total, price, currency: 'EUR' }],
});
const orgA = () => bearer('organizer', 'org-a');
const orgB = () => bearer('organizer', 'org-b');

function expectForbidden(res: request.Response): void {
  expect(res.status).toBe(403);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.body.type).toBe('https://eventticket.dev/problems/forbidden');
}

async function inventoryOf(eventId: string) {
  return (await request(h.app).get(`/events/${eventId}/inventory`).set(as.operator()).expect(200)).body as {
    ticketTypes: Array<{ ticketType: string; totalQuantity: number; price: number }>;
  };
}

it("organizer B cannot change organizer A's inventory, prices or admission limit; A and operator-repair can", async () => {
  const eventId = uniqueId('ev');
  await request(h.app).put(`/events/${eventId}/inventory`).set(orgA()).send(inventoryBody(10)).expect(200);
  expect(await readEventOwner(h.participantDeps, eventId)).toBe('org-a');
  await request(h.app).put(`/events/${eventId}/admission`).set(orgA()).send({ maxActiveOrders: 5 }).expect(200);

  const before = await inventoryOf(eventId);
  expectForbidden(await request(h.app).put(`/events/${eventId}/inventory`).set(orgB()).send(inventoryBody(1, 1)));
  expectForbidden(
    await request(h.app)
      .put(`/events/${eventId}/inventory`)
      .set(orgB())
      .send(inventoryBody(1, 1, 'VIP')),
  );
  expectForbidden(await request(h.app).put(`/events/${eventId}/admission`).set(orgB()).send({ maxActiveOrders: 0 }));
  expect(await inventoryOf(eventId)).toEqual(before);
  expect(await room.limitOf(eventId)).toBe(5);
  expect(await readEventOwner(h.participantDeps, eventId)).toBe('org-a');

  // The owner changes its prices; operator-repair may too; neither takes the event over.
  await request(h.app).put(`/events/${eventId}/inventory`).set(orgA()).send(inventoryBody(12)).expect(200);
  await request(h.app).put(`/events/${eventId}/inventory`).set(as.repair()).send(inventoryBody(11)).expect(200);
  await request(h.app).put(`/events/${eventId}/admission`).set(as.repair()).send({ maxActiveOrders: 7 }).expect(200);
  expect((await inventoryOf(eventId)).ticketTypes[0].price).toBe(11);
  expect(await room.limitOf(eventId)).toBe(7);
  expect(await readEventOwner(h.participantDeps, eventId)).toBe('org-a');
});

it('an admission limit set first claims the event id: the inventory then belongs to the same organizer', async () => {
  const eventId = uniqueId('ev');
  await request(h.app).put(`/events/${eventId}/admission`).set(orgB()).send({ maxActiveOrders: 3 }).expect(200);
  expectForbidden(await request(h.app).put(`/events/${eventId}/inventory`).set(orgA()).send(inventoryBody(10)));
  expect((await request(h.app).get(`/events/${eventId}/inventory`).set(as.operator())).status).toBe(404);
  await request(h.app).put(`/events/${eventId}/inventory`).set(orgB()).send(inventoryBody(10)).expect(200);
});

it('two organizers creating one new event at once: exactly one owns it, the other is 403 and wrote nothing', async () => {
  const eventId = uniqueId('ev');
  const answers = await Promise.all([
    request(h.app)
      .put(`/events/${eventId}/inventory`)
      .set(orgA())
      .send(inventoryBody(10, 10, 'A')),
    request(h.app)
      .put(`/events/${eventId}/inventory`)
      .set(orgB())
      .send(inventoryBody(10, 10, 'B')),
  ]);
  expect(answers.map((a) => a.status).sort()).toEqual([200, 403]);
  const winner = answers[0].status === 200 ? 'A' : 'B';
  expect(await readEventOwner(h.participantDeps, eventId)).toBe(winner === 'A' ? 'org-a' : 'org-b');
  expect((await inventoryOf(eventId)).ticketTypes.map((t) => t.ticketType)).toEqual([winner]);
});

it('an event written before ownership is changed only by operator-repair until it is given an owner', async () => {
  const eventId = uniqueId('ev');
  await putEventInventory(h.participantDeps, eventId, 'Legacy', [
    { ticketType: 'GA', totalQuantity: 10, priceMinor: 1000, currency: 'EUR' },
  ]);
  expectForbidden(await request(h.app).put(`/events/${eventId}/inventory`).set(orgA()).send(inventoryBody(1)));
  expectForbidden(await request(h.app).put(`/events/${eventId}/admission`).set(orgA()).send({ maxActiveOrders: 1 }));
  expect(await readEventOwner(h.participantDeps, eventId)).toBeUndefined();
  expect((await inventoryOf(eventId)).ticketTypes[0].price).toBe(10);
  await request(h.app).put(`/events/${eventId}/inventory`).set(as.repair()).send(inventoryBody(9)).expect(200);
  expect(await readEventOwner(h.participantDeps, eventId)).toBeUndefined();

  await assignEventOwner(h.participantDeps, eventId, 'org-a');
  await request(h.app).put(`/events/${eventId}/inventory`).set(orgA()).send(inventoryBody(8)).expect(200);
  expectForbidden(await request(h.app).put(`/events/${eventId}/inventory`).set(orgB()).send(inventoryBody(1)));
  await expect(assignEventOwner(h.participantDeps, eventId, 'org-b')).rejects.toThrow(/another organizer/);
});

it('the ownership claim is not a ticket type: listings and orders never see it', async () => {
  const eventId = uniqueId('ev');
  await request(h.app).put(`/events/${eventId}/inventory`).set(orgA()).send(inventoryBody(10)).expect(200);
  expect((await inventoryOf(eventId)).ticketTypes.map((t) => t.ticketType)).toEqual(['GA']);
  await request(h.app)
    .post('/orders')
    .set(as.customer('c-own'))
    .send({ eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' })
    .expect(202);
});

it("a refused write leaves the owner's cached inventory in place (a 403 changes nothing, not even the cache)", async () => {
  const eventId = uniqueId('ev');
  await request(h.app).put(`/events/${eventId}/inventory`).set(orgA()).send(inventoryBody(10)).expect(200);
  const read = () => request(h.app).get(`/events/${eventId}/inventory`).set(as.operator()).expect(200);
  await read();
  expect((await read()).headers['x-cache']).toBe('HIT');
  expectForbidden(await request(h.app).put(`/events/${eventId}/inventory`).set(orgB()).send(inventoryBody(1, 1)));
  expect((await read()).headers['x-cache']).toBe('HIT');
});
