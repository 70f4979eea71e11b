/**
 * The waiting room over HTTP (src/admission/waiting-room.ts):
 * - GET /orders/:orderId/queue: a queued buyer's position and estimated wait, or that the order
 *   was admitted (its saga runs: GET /orders/:orderId), or that it sold out before their turn.
 * - PUT /events/:eventId/admission {"maxActiveOrders": n | null}: the event's limit of orders in
 *   their saga at once (0 = no waiting room, null = back to ADMISSION_MAX_ACTIVE_ORDERS).
 */
import type { Request, Response } from 'express';
import type { WaitingRoom } from '../../admission/waiting-room';
import type { SagaStore } from '../../store/saga-store';
import { hasRole, principalOf } from '../../http/auth/principal';
import { routeOf, type Route, type RouteInput } from '../../http/route';
import { EVENT_ID_PARAM, ORDER_ID_PARAM } from '../../http/schemas';
import { ProblemError } from '../../http/problem';
import { emptyQuerySchema } from '../schemas';
import { eventWriter, notYourEvent } from './inventory';
import { EventOwnershipError } from '../../participants/event-owner';
import type { CachedInventory } from '../inventory';

interface AdmissionBody {
  maxActiveOrders: number | null;
}

/** The PUT /events/:eventId/admission body (ajv; OpenAPI reads it too). */
export const admissionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['maxActiveOrders'],
  properties: { maxActiveOrders: { type: ['integer', 'null'], minimum: 0, maximum: 1_000_000 } },
} as const;

export interface WaitingRoomRouteDeps {
  room: WaitingRoom;
  store: Pick<SagaStore, 'load'>;
  /**
   * Who may change an event (its owner or operator-repair, src/participants/event-owner.ts);
   * absent, no ownership rule (tests of the room alone).
   */
  events?: Pick<CachedInventory, 'mayChangeEvent'>;
}

/** GET /orders/:orderId/queue: a queued order's place, or that it was admitted or sold out. */
async function queuePlace(
  { room, store }: WaitingRoomRouteDeps,
  { params }: RouteInput,
  _req: Request,
  res: Response,
): Promise<void> {
  const { orderId } = params;
  // A customer sees only its own order's place; another's reads as unknown (404).
  const principal = principalOf(res);
  if (!hasRole(principal, 'operator')) {
    const owner = (await store.load(orderId))?.customerId ?? (await room.ownerOf(orderId));
    if (owner !== principal.sub) throw new ProblemError('not-found', `order ${orderId} is neither waiting nor placed`);
  }
  let standing = await room.standing(orderId);
  // Past the waiting room (its saga ran, maybe ended), or Redis down: the store knows the order.
  if (standing.state === 'unknown' && (await store.load(orderId))) standing = { state: 'admitted' };
  res.setHeader('Cache-Control', 'no-store');
  switch (standing.state) {
    case 'waiting':
      res.setHeader('Retry-After', String(Math.min(30, Math.max(1, Math.ceil(standing.estimatedWaitSeconds / 4)))));
      res.json({
        orderId,
        status: 'QUEUED',
        position: standing.position,
        estimatedWaitSeconds: standing.estimatedWaitSeconds,
      });
      return;
    case 'admitted':
      res.json({ orderId, status: 'ADMITTED', links: { self: `/orders/${orderId}` } });
      return;
    case 'sold-out':
      res.json({ orderId, status: 'SOLD_OUT' });
      return;
    case 'unknown':
      throw new ProblemError('not-found', `order ${orderId} is neither waiting nor placed`);
  }
}

/** PUT /events/:eventId/admission: the event's limit of orders in their saga at once. */
async function setAdmission(
  { room, events }: WaitingRoomRouteDeps,
  input: RouteInput<Record<string, never>, AdmissionBody>,
  _req: Request,
  res: Response,
): Promise<void> {
  const { eventId } = input.params;
  const body = input.body;
  try {
    await events?.mayChangeEvent(eventId, eventWriter(principalOf(res)));
  } catch (error) {
    if (error instanceof EventOwnershipError) throw notYourEvent(error);
    throw error;
  }
  try {
    await room.setLimit(eventId, body.maxActiveOrders);
  } catch {
    throw new ProblemError('service-unavailable', 'the waiting room (Redis) is unavailable; try again');
  }
  res.json({ eventId, maxActiveOrders: await room.limitOf(eventId) });
}

const route = routeOf<WaitingRoomRouteDeps>();

/** The waiting room's routes: served when the service has a waiting room. */
export const WAITING_ROOM_ROUTES: ReadonlyArray<Route<WaitingRoomRouteDeps>> = [
  route({
    method: 'get',
    path: '/orders/:orderId/queue',
    roles: ['customer', 'operator'],
    summary: "A queued order's place in the waiting room (or ADMITTED / SOLD_OUT)",
    tag: 'orders',
    query: emptyQuerySchema,
    params: { orderId: ORDER_ID_PARAM },
    ok: { 200: 'json' },
    problems: [400, 404],
    handle: queuePlace,
  }),
  route<Record<string, never>, AdmissionBody>({
    method: 'put',
    path: '/events/:eventId/admission',
    roles: ['organizer', 'operator-repair'],
    summary: "An event's waiting-room limit of orders in their saga at once (0 = off, null = the default)",
    tag: 'inventory',
    query: emptyQuerySchema,
    body: admissionSchema,
    params: { eventId: EVENT_ID_PARAM },
    ok: { 200: 'json' },
    problems: [400, 503],
    handle: setAdmission,
  }),
];
