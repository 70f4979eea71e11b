/**
 * Order-saga machine version 2 (ORDER_SAGA_VERSION): the machine of machine.ts — amounts in
 * minor units, free orders skip payment. Version 1 (amounts in major units) is not in this build:
 * its commands no longer pass the participants' schemas. Frozen: a saga that started on v2
 * finishes on it, so its behaviour may not change once released (the fingerprint pinned in
 * registry.ts fails the build when it does; docs/versioning.md).
 */
import { ORDER_SAGA_VERSION, orderSagaMachine, type OrderSagaMachine } from './machine';

export const ORDER_SAGA_V2: { version: string; machine: OrderSagaMachine } = {
  version: ORDER_SAGA_VERSION,
  machine: orderSagaMachine,
};
