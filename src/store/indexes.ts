/**
 * The names of the TicketOrders table's secondary indexes: spelled here only, for every reader
 * (the store's listings and stale-saga scan, the console's listings, the live stream, the index
 * upgrade). Their key schemas are defined in init-scripts/resources.json; all are KEYS_ONLY, so a
 * reader gets order ids and re-reads what it shows from the base table.
 */

/** Partition `customerId`, sort `createdKey`: a customer's orders, newest first. */
export const CUSTOMER_ORDERS_INDEX = 'CustomerIndex';
/**
 * Partition `status`, sort `createdKey`: the orders in one status, newest first; also the sweeper's
 * stale scan (an order last updated before T was created before T), its expired-hold scan (a hold
 * cannot expire before its saga lived for the hold's duration) and the console's saga list.
 */
export const STATUS_ORDERS_INDEX = 'StatusOrdersIndex';

/** The indexes that sort on `createdKey`: adding one means older orders need the attribute (src/infra/init.ts). */
export const LISTING_INDEXES: readonly string[] = [CUSTOMER_ORDERS_INDEX, STATUS_ORDERS_INDEX];

/**
 * Indexes an older definition had and this one retired: `npm run init` deletes them from an
 * existing table (src/infra/upgrade-indexes.ts). Only indexes named here are ever deleted, and only
 * from a table whose definition no longer names them.
 *  - StatusIndex (TicketOrders; partition `status`, sort `updatedAt`): its key moved on every saga
 *    step (~18 WRU per order); issue 25 replaced its readers by the TicketOrders stream (the live
 *    feeds) and StatusOrdersIndex (the sweeper, the console list).
 *  - ExpirationIndex (TicketReservations; partition `status`, sort `expiresAt`): an entry put by
 *    the hold's transaction and deleted by the confirm's, each doubled (~4 WRU per order); issue 25
 *    replaced its one reader, the sweeper's expired-hold backstop, by StatusOrdersIndex and the
 *    saga's own context (src/runtime/sweeper.ts).
 */
export const RETIRED_INDEXES: readonly string[] = ['StatusIndex', 'ExpirationIndex'];
