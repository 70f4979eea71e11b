/**
 * The names of the TicketOrders table's secondary indexes: spelled here only, for every reader
 * (the store's listings and stale-saga scan, the console's listings, the live stream, the index
 * upgrade). Their key schemas are defined in init-scripts/resources.json; all are KEYS_ONLY, so a
 * reader gets order ids and re-reads what it shows from the base table.
 */

/** Partition `status`, sort `updatedAt`: open sagas that have not moved since a time (sweeper, stuck listing). */
export const STATUS_UPDATED_INDEX = 'StatusIndex';
/** Partition `customerId`, sort `createdKey`: a customer's orders, newest first. */
export const CUSTOMER_ORDERS_INDEX = 'CustomerIndex';
/** Partition `status`, sort `createdKey`: the orders in one status, newest first. */
export const STATUS_ORDERS_INDEX = 'StatusOrdersIndex';

/** The indexes that sort on `createdKey`: adding one means older orders need the attribute (src/infra/init.ts). */
export const LISTING_INDEXES: readonly string[] = [CUSTOMER_ORDERS_INDEX, STATUS_ORDERS_INDEX];
