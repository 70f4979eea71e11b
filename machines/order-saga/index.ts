export * from './types';
export * from './status';
export * from './machine';
export * from './decide';
export * from './schemas';
export * from './registry';
export * from './changelog';
export { ORDER_SAGA_V2_VERSION, orderSagaV2Machine, reminderDueAt, reminderLeadSeconds } from './v2';
export * from './migrations';
