/**
 * /machines/order-saga: the machine's definition, to draw as a diagram; /machines/order-saga/versions:
 * every version this build runs (docs/versioning.md), and each one's definition.
 */
import type { Request, Response } from 'express';
import { routeOf, type Route, type RouteInput } from '../../http/route';
import { emptyQuerySchema } from '../schemas';
import { MACHINE_VERSIONS, ORDER_SAGA_VERSION, orderSagaMachine, START_VERSION } from '../../../machines/order-saga';
import { ProblemError } from '../../http/problem';

/** XState's JSON of the machine (guards and actions by name; inline functions become null). */
export function orderSagaDefinition(): unknown {
  return orderSagaMachine.toJSON();
}

export interface MachinesRouteDeps {
  /** The definition served at /machines/order-saga (default orderSagaDefinition). */
  definition: () => unknown;
  /** The version this process starts new orders on (config ORDER_SAGA_START_VERSION). */
  startVersion: string;
  /** The definition's JSON, computed once. */
  cached?: string;
}

/** The deps of the machine routes; `startVersion` defaults to the build's START_VERSION. */
export function machinesDeps(
  definition: () => unknown = orderSagaDefinition,
  startVersion: string = START_VERSION,
): MachinesRouteDeps {
  return { definition, startVersion };
}

function versions(deps: MachinesRouteDeps, _input: RouteInput, _req: Request, res: Response): void {
  res.json({
    startVersion: deps.startVersion,
    versions: MACHINE_VERSIONS.map((v) => ({
      version: v.version,
      released: v.releasedFingerprint !== null,
      changes: v.changelog?.changes.map((c) => ({ id: c.id, description: c.description })) ?? [],
      links: { definition: `/machines/order-saga/versions/${v.version}` },
    })),
  });
}

function version(_deps: MachinesRouteDeps, { params }: RouteInput, _req: Request, res: Response): void {
  const entry = MACHINE_VERSIONS.find((v) => v.version === params.version);
  if (!entry)
    throw new ProblemError(
      'not-found',
      `this build has no order-saga machine version ${params.version} (it has ${MACHINE_VERSIONS.map((v) => v.version).join(', ')})`,
    );
  res.json({ id: entry.machine.id, version: entry.version, definition: entry.machine.toJSON() });
}

function definitionOf(deps: MachinesRouteDeps, _input: RouteInput, _req: Request, res: Response): void {
  deps.cached ??= JSON.stringify({
    id: orderSagaMachine.id,
    version: ORDER_SAGA_VERSION,
    definition: deps.definition(),
  });
  res.type('application/json').send(deps.cached);
}

const route = routeOf<MachinesRouteDeps>();

export const MACHINE_ROUTES: ReadonlyArray<Route<MachinesRouteDeps>> = [
  route({
    method: 'get',
    path: '/machines/order-saga',
    roles: ['operator'],
    summary: "The order saga machine's definition",
    tag: 'sagas',
    query: emptyQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: definitionOf,
  }),
  route({
    method: 'get',
    path: '/machines/order-saga/versions',
    roles: ['operator'],
    summary: "The machine versions this build runs, the start version, each version's declared changes",
    tag: 'sagas',
    query: emptyQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: versions,
  }),
  route({
    method: 'get',
    path: '/machines/order-saga/versions/:version',
    roles: ['operator'],
    summary: "One machine version's definition",
    tag: 'sagas',
    query: emptyQuerySchema,
    // Not checked against the pattern: an unknown version is looked up and answered 404.
    params: { version: { pattern: '^[A-Za-z0-9._-]{1,20}$' } },
    ok: { 200: 'json' },
    problems: [400, 404],
    handle: version,
  }),
];
