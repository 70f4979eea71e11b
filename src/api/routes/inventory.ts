/** /events/:eventId/inventory: an event's ticket types, read through the cache (X-Cache). */
import { Router, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import { InvalidInventoryError, InventoryConflictError } from '../../participants/errors';
import { EventOwnershipError, type EventWriter } from '../../participants/event-owner';
import { hasRole, principalOf, type Principal } from '../auth/principal';
import { requireRole } from '../auth/require-role';
import { ticketTypesInMinorUnits } from '../amounts';
import type { CachedInventory } from '../inventory';
import { ProblemError, type FieldError } from '../problem';
import { emptyQuerySchema, ID_REGEX, putInventorySchema, type PutInventoryBody } from '../schemas';
import { bodyValidator, pathParam, queryValidator } from '../validation';
import { queryOf } from './orders';

const validatePut = bodyValidator<PutInventoryBody>(putInventorySchema);
const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);

/** The caller as an event writer: its sub, and whether it may repair any event. */
export function eventWriter(principal: Principal): EventWriter {
  return { sub: principal.sub, repair: hasRole(principal, 'operator-repair') };
}

/** 403: event ids are public (customers order by them), so a 404 would hide nothing. */
export function notYourEvent(error: EventOwnershipError): ProblemError {
  return new ProblemError('forbidden', error.message, undefined, {
    eventId: error.eventId,
    ownerless: error.ownerless,
  });
}

function eventIdParam(req: Request): string {
  return pathParam(req.params.eventId, 'eventId', ID_REGEX, 'an id of letters, digits and ._:@- (at most 128)');
}

export function inventoryRouter(inventory: CachedInventory): Router {
  const router = apiRouter();

  router.get(
    '/events/:eventId/inventory',
    requireRole('organizer', 'operator'),
    async (req: Request, res: Response) => {
      validateNoQuery(queryOf(req), 'query');
      const eventId = eventIdParam(req);
      const read = await inventory.get(eventId);
      res.setHeader('X-Cache', read.cache);
      if (!read.inventory) throw new ProblemError('not-found', `event ${eventId} has no inventory`);
      res.json(read.inventory);
    },
  );

  // The role lets an organizer try; the event's owner rule (src/participants/event-owner.ts) decides.
  router.put(
    '/events/:eventId/inventory',
    requireRole('organizer', 'operator-repair'),
    async (req: Request, res: Response) => {
      validateNoQuery(queryOf(req), 'query');
      const eventId = eventIdParam(req);
      const body = validatePut(req.body, 'body');
      const errors: FieldError[] = [];
      const seen = new Map<string, number>();
      body.ticketTypes.forEach((t, i) => {
        const first = seen.get(t.ticketType);
        if (first !== undefined)
          errors.push({
            field: `/ticketTypes/${i}/ticketType`,
            message: `duplicates /ticketTypes/${first}/ticketType`,
          });
        else seen.set(t.ticketType, i);
      });
      if (errors.length > 0) throw new ProblemError('invalid-inventory', 'each ticket type may appear once', errors);
      const priced = ticketTypesInMinorUnits(body.ticketTypes);
      if (priced.errors.length > 0) {
        throw new ProblemError('validation', 'prices must be exact in their ISO 4217 currency', priced.errors);
      }
      try {
        const view = await inventory.put(eventId, body.eventName, priced.value, eventWriter(principalOf(res)));
        res.setHeader('X-Cache', 'BYPASS');
        res.json(view);
      } catch (error) {
        if (error instanceof InventoryConflictError) {
          throw new ProblemError('inventory-conflict', error.message, undefined, { ...error.details });
        }
        if (error instanceof InvalidInventoryError) throw new ProblemError('invalid-inventory', error.message);
        if (error instanceof EventOwnershipError) throw notYourEvent(error);
        throw error;
      }
    },
  );

  return router;
}
