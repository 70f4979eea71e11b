/**
 * Order-saga machine version 1: the machine of machine.ts, as it was first deployed. Frozen: a
 * saga that started on v1 finishes on it, so its behaviour may not change once released (the
 * fingerprint pinned in registry.ts fails the build when it does; docs/versioning.md).
 */
import { ORDER_SAGA_VERSION, orderSagaMachine, type OrderSagaMachine } from './machine';

export const ORDER_SAGA_V1: { version: string; machine: OrderSagaMachine } = { version: ORDER_SAGA_VERSION, machine: orderSagaMachine };
