/** /events/:eventId/inventory: an event's ticket types, read through the cache (X-Cache). */
import type { Request, Response } from 'express';
import { InvalidInventoryError, InventoryConflictError } from '../../participants/errors';
import { EventOwnershipError, type EventWriter } from '../../participants/event-owner';
import { hasRole, principalOf, type Principal } from '../../http/auth/principal';
import { routeOf, type Route, type RouteInput } from '../../http/route';
import { EVENT_ID_PARAM } from '../../http/schemas';
import { ticketTypesInMinorUnits } from '../amounts';
import type { CachedInventory } from '../inventory';
import { ProblemError, type FieldError } from '../../http/problem';
import { emptyQuerySchema, putInventorySchema, type PutInventoryBody } from '../schemas';

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

/** GET /events/:eventId/inventory: through the cache (X-Cache says HIT or MISS). */
async function getInventory(
  inventory: CachedInventory,
  { params }: RouteInput,
  _req: Request,
  res: Response,
): Promise<void> {
  const { eventId } = params;
  const read = await inventory.get(eventId);
  res.setHeader('X-Cache', read.cache);
  if (!read.inventory) throw new ProblemError('not-found', `event ${eventId} has no inventory`);
  res.json(read.inventory);
}

/**
 * PUT /events/:eventId/inventory: the role lets an organizer try; the event's owner rule
 * (src/participants/event-owner.ts) decides.
 */
async function putInventory(
  inventory: CachedInventory,
  input: RouteInput<Record<string, never>, PutInventoryBody>,
  _req: Request,
  res: Response,
): Promise<void> {
  const { eventId } = input.params;
  const body = input.body;
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
}

const route = routeOf<CachedInventory>();

export const INVENTORY_ROUTES: ReadonlyArray<Route<CachedInventory>> = [
  route({
    method: 'get',
    path: '/events/:eventId/inventory',
    roles: ['organizer', 'operator'],
    summary: "An event's ticket inventory",
    tag: 'inventory',
    query: emptyQuerySchema,
    params: { eventId: EVENT_ID_PARAM },
    ok: { 200: { json: 'Inventory' } },
    problems: [400, 404],
    handle: getInventory,
  }),
  route<Record<string, never>, PutInventoryBody>({
    method: 'put',
    path: '/events/:eventId/inventory',
    roles: ['organizer', 'operator-repair'],
    summary: "Set an event's ticket types",
    tag: 'inventory',
    query: emptyQuerySchema,
    body: putInventorySchema,
    params: { eventId: EVENT_ID_PARAM },
    ok: { 200: { json: 'Inventory' } },
    problems: [400, 409, 422],
    handle: putInventory,
  }),
];
