/**
 * The waiting room over HTTP (src/admission/waiting-room.ts):
 * - GET /orders/:orderId/queue: a queued buyer's position and estimated wait, or that the order
 *   was admitted (its saga runs: GET /orders/:orderId), or that it sold out before their turn.
 * - PUT /events/:eventId/admission {"maxActiveOrders": n | null}: the event's limit of orders in
 *   their saga at once (0 = no waiting room, null = back to ADMISSION_MAX_ACTIVE_ORDERS).
 */
import { Router, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import type { WaitingRoom } from '../../admission/waiting-room';
import type { SagaStore } from '../../store/saga-store';
import { hasRole, principalOf } from '../auth/principal';
import { requireRole } from '../auth/require-role';
import { ProblemError } from '../problem';
import { emptyQuerySchema, ID_REGEX } from '../schemas';
import { bodyValidator, pathParam, queryValidator } from '../validation';
import { orderIdParam, queryOf } from './orders';
import { eventWriter, notYourEvent } from './inventory';
import { EventOwnershipError } from '../../participants/event-owner';
import type { CachedInventory } from '../inventory';

const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);

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
const validateAdmission = bodyValidator<AdmissionBody>(admissionSchema);

/**
 * `events`: who may change an event (its owner or operator-repair, src/participants/event-owner.ts);
 * absent, no ownership rule (tests of the room alone).
 */
export function waitingRoomRouter(
  room: WaitingRoom,
  store: Pick<SagaStore, 'load'>,
  events?: Pick<CachedInventory, 'mayChangeEvent'>,
): Router {
  const router = apiRouter();

  router.get('/orders/:orderId/queue', requireRole('customer', 'operator'), async (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    const orderId = orderIdParam(req);
    // A customer sees only its own order's place; another's reads as unknown (404).
    const principal = principalOf(res);
    if (!hasRole(principal, 'operator')) {
      const owner = (await store.load(orderId))?.customerId ?? (await room.ownerOf(orderId));
      if (owner !== principal.sub)
        throw new ProblemError('not-found', `order ${orderId} is neither waiting nor placed`);
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
  });

  router.put(
    '/events/:eventId/admission',
    requireRole('organizer', 'operator-repair'),
    async (req: Request, res: Response) => {
      validateNoQuery(queryOf(req), 'query');
      const eventId = pathParam(
        req.params.eventId,
        'eventId',
        ID_REGEX,
        'an id of letters, digits and ._:@- (at most 128)',
      );
      const body = validateAdmission(req.body, 'body');
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
    },
  );

  return router;
}
