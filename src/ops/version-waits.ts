/**
 * Which open sagas wait on a machine version, and which version: for /ops/overview (a count per
 * version) and GET /ops/sagas/machine-versions (the sagas). A saga waits when a worker met its
 * machine version and did not have it (the item's versionWait, src/runtime/version-wait.ts), or
 * when this process's build does not have it (a worker of the same build would not either).
 */
import { isKnownMachineVersion, knownMachineVersions } from '../../machines/order-saga';
import type { OrderSagaState, OrderStatus } from '../../machines/order-saga';
import type { StoredSaga } from '../store/saga-store';

export interface VersionWaitingSaga {
  orderId: string;
  /** The machine version the saga runs on. */
  machineVersion: string;
  state: OrderSagaState;
  status: OrderStatus;
  /** The event type a worker held back, when one did. */
  waitingEvent: string | null;
  /** When a worker first and last held back one of its events (null: none has yet). */
  since: string | null;
  lastSeenAt: string | null;
  /** Deliveries held back so far. */
  deliveriesHeld: number;
  /** The versions the build that held it back knows (or this process's build). */
  knownVersions: string[];
}

export interface VersionWaitSummary {
  /** How many open sagas wait on a machine version. */
  sagas: number;
  /** The same, per machine version. */
  byVersion: Record<string, number>;
}

/**
 * Pure: whether `saga` waits on its machine version, and what is known of the wait.
 * `known` says whether this process's build has a version; `knownHere` lists them.
 */
export function versionWaitOf(
  saga: StoredSaga,
  known: (version: string) => boolean = isKnownMachineVersion,
  knownHere: string[] = [],
): VersionWaitingSaga | null {
  const version = saga.saga.machineVersion;
  const wait = saga.versionWait?.machineVersion === version ? saga.versionWait : undefined;
  if (!wait && known(version)) return null;
  return {
    orderId: saga.orderId,
    machineVersion: version,
    state: saga.sagaState,
    status: saga.status,
    waitingEvent: wait?.eventType ?? null,
    since: wait?.since ?? null,
    lastSeenAt: wait?.lastSeenAt ?? null,
    deliveriesHeld: wait?.seen ?? 0,
    knownVersions: wait?.knownVersions ?? knownHere,
  };
}

/** Pure: the count per version of the waiting sagas. */
export function summarizeVersionWaits(waiting: readonly VersionWaitingSaga[]): VersionWaitSummary {
  const byVersion: Record<string, number> = {};
  for (const w of waiting) byVersion[w.machineVersion] = (byVersion[w.machineVersion] ?? 0) + 1;
  return { sagas: waiting.length, byVersion };
}

/** The open sagas that wait on a machine version, longest waiting first (/ops/overview, the console). */
export function versionWaits(sagas: readonly StoredSaga[]): VersionWaitingSaga[] {
  const here = knownMachineVersions();
  return sagas
    .map((saga) => versionWaitOf(saga, isKnownMachineVersion, here))
    .filter((w): w is VersionWaitingSaga => w !== null)
    .sort((a, b) => (a.since ?? '~').localeCompare(b.since ?? '~') || a.orderId.localeCompare(b.orderId));
}
