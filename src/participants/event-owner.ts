/**
 * Who owns an event (issue 22, "organizers own their events"): the verified `sub` of the organizer
 * who first wrote anything about the event id (its inventory or its admission limit). No
 * organization claim is used: tokens here carry no verified organization, and `sub` is what every
 * provider guarantees. Only the owner, or an operator with the `operator-repair` role, may change
 * the event's inventory, prices or admission limit; anyone else is refused (EventOwnershipError,
 * 403 over HTTP: event ids are public — customers order by them — so hiding the event with a 404
 * would protect nothing).
 *
 * The claim is one item in the inventory table, under its own partition key `<eventId>#owner`
 * ('#' cannot occur in an event id, as for the shards), ticketType `#owner`, with `ownerOf`
 * (the event id), `owner` and `claimedAt`. Inventory writes check it in the same transaction
 * (ownershipItem), so an ownership change and a write cannot interleave, and two organizers
 * creating the same new event at once cannot both win (the claim's Put is conditional).
 *
 * Events written before ownership existed have ticket types and no claim: they are ownerless, and
 * only operator-repair may change them until `npm run event-owner -- --event <id> --owner <sub>`
 * (scripts/event-owner.ts, assignEventOwner) gives them one. A first organizer write never claims
 * an existing event: that would hand it to whoever comes first.
 */
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { nowIso, type ParticipantDeps } from './deps';

type Deps = Pick<ParticipantDeps, 'doc' | 'tables'>;
type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** The ticketType of a claim item. */
export const OWNER_TICKET_TYPE = '#owner';

/** Who is writing to an event: the verified `sub`, and whether it holds operator-repair. */
export interface EventWriter {
  sub: string;
  repair: boolean;
}

/** An event's claim item as stored. */
export interface OwnerClaim {
  eventId: string;
  ticketType: typeof OWNER_TICKET_TYPE;
  ownerOf: string;
  owner: string;
  claimedAt: string;
}

/** The writer may not change this event: 403 over HTTP; nothing was written. */
export class EventOwnershipError extends Error {
  override readonly name: string = 'EventOwnershipError';
  constructor(
    readonly eventId: string,
    readonly ownerless: boolean,
  ) {
    super(
      ownerless
        ? `event ${eventId} has no owner yet: only an operator with the operator-repair role may change it`
        : `event ${eventId} belongs to another organizer: only its owner or operator-repair may change it`,
    );
  }
}

/** True for a claim item (readers of the whole inventory table skip it). */
export function isOwnerClaim(row: object): row is OwnerClaim {
  return typeof (row as { ownerOf?: unknown }).ownerOf === 'string';
}

function claimKey(eventId: string) {
  return { eventId: `${eventId}#owner`, ticketType: OWNER_TICKET_TYPE };
}

/** The event's owner (`sub`), or undefined when it has none. Strongly consistent. */
export async function readEventOwner(deps: Deps, eventId: string): Promise<string | undefined> {
  const { Item } = await deps.doc.send(
    new GetCommand({ TableName: deps.tables.inventory, Key: claimKey(eventId), ConsistentRead: true }),
  );
  return Item ? (Item as OwnerClaim).owner : undefined;
}

/**
 * The rule, decided on what was read: the claim's owner (or none) and whether the event has any
 * ticket types. Returns the transaction item that keeps the decision true until the write commits:
 * a check that the claim is still the one read, or the conditional Put of a new event's claim.
 * @throws EventOwnershipError when the writer may not change the event.
 */
export function ownershipItem(
  deps: Pick<ParticipantDeps, 'tables' | 'now'>,
  eventId: string,
  owner: string | undefined,
  eventExists: boolean,
  writer: EventWriter,
): TransactItem {
  const TableName = deps.tables.inventory;
  const Key = claimKey(eventId);
  if (owner !== undefined) {
    if (owner !== writer.sub && !writer.repair) throw new EventOwnershipError(eventId, false);
    return {
      ConditionCheck: {
        TableName,
        Key,
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      },
    };
  }
  const stillOwnerless: TransactItem = {
    ConditionCheck: {
      TableName,
      Key,
      ConditionExpression: 'attribute_not_exists(#ownerOf)',
      ExpressionAttributeNames: { '#ownerOf': 'ownerOf' },
    },
  };
  // An existing event without an owner: only repair, and it stays ownerless (assignEventOwner gives it one).
  if (eventExists) {
    if (!writer.repair) throw new EventOwnershipError(eventId, true);
    return stillOwnerless;
  }
  // A new event: its first organizer owns it. Created by repair, it starts ownerless.
  if (writer.repair) return stillOwnerless;
  const claim: OwnerClaim = {
    ...Key,
    ticketType: OWNER_TICKET_TYPE,
    ownerOf: eventId,
    owner: writer.sub,
    claimedAt: nowIso(deps),
  };
  return {
    Put: {
      TableName,
      Item: claim,
      ConditionExpression: 'attribute_not_exists(#ownerOf)',
      ExpressionAttributeNames: { '#ownerOf': 'ownerOf' },
    },
  };
}

/**
 * Checks (and for a new event, claims) the writer's right to change an event outside an inventory
 * transaction: the admission limit, which lives in Redis. `eventExists`: whether it has ticket types.
 * @throws EventOwnershipError
 */
export async function ensureMayChangeEvent(
  deps: Pick<ParticipantDeps, 'doc' | 'tables' | 'now'>,
  eventId: string,
  eventExists: boolean,
  writer: EventWriter,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const item = ownershipItem(deps, eventId, await readEventOwner(deps, eventId), eventExists, writer);
    if (!item.Put) return;
    try {
      await deps.doc.send(new PutCommand(item.Put));
      return;
    } catch (error) {
      // Another organizer claimed it meanwhile: decide again on their claim.
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
  throw new EventOwnershipError(eventId, false);
}

/**
 * Gives an event an owner (the migration of events written before ownership, or a hand-over):
 * sets `owner`, replacing a current one only with `replace`. Returns the previous owner.
 * @throws EventOwnershipError when the event has another owner and `replace` is false.
 */
export async function assignEventOwner(
  deps: Pick<ParticipantDeps, 'doc' | 'tables' | 'now'>,
  eventId: string,
  owner: string,
  replace = false,
): Promise<string | undefined> {
  const previous = await readEventOwner(deps, eventId);
  if (previous !== undefined && previous !== owner && !replace) throw new EventOwnershipError(eventId, false);
  const claim: OwnerClaim = {
    ...claimKey(eventId),
    ticketType: OWNER_TICKET_TYPE,
    ownerOf: eventId,
    owner,
    claimedAt: nowIso(deps),
  };
  await deps.doc.send(new PutCommand({ TableName: deps.tables.inventory, Item: claim }));
  return previous;
}
