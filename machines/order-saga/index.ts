export * from './types';
export * from './status';
export * from './machine';
export * from './decide';
export * from './schemas';
export * from './registry';
export * from './changelog';
export { ORDER_SAGA_V3_VERSION, orderSagaV3Machine, reminderDueAt, reminderLeadSeconds } from './v3';
export * from './migrations';
