/**
 * Every deployed version of the order-saga machine, side by side. A saga runs to its end on the
 * version it started with (PersistedSaga.machineVersion); new orders start on START_VERSION unless
 * the process is configured otherwise (ORDER_SAGA_START_VERSION, src/config/config.ts).
 *
 * To ship a machine change: add a version here, never edit a released one (docs/versioning.md).
 * Each released version's behaviour is pinned by a fingerprint (test/machines/versions.test.ts).
 */
import type { OrderSagaMachine } from './machine';
import { ORDER_SAGA_V2 } from './v2';
import { ORDER_SAGA_V3 } from './v3';
import changelogV3 from './changelog/3.json';
import type { MachineChangelog } from './changelog';

export interface MachineVersion {
  /** The value stored in PersistedSaga.machineVersion and in every Events row. */
  version: string;
  machine: OrderSagaMachine;
  /** The differences against the previous version that replay excuses (null for the first). */
  changelog: MachineChangelog | null;
  /**
   * sha256 of the version's behaviour fingerprint (tools/fingerprint.ts) when it was released: a
   * released version that behaves differently fails the build. Null while not yet released.
   */
  releasedFingerprint: string | null;
}

export const MACHINE_VERSIONS: readonly MachineVersion[] = [
  {
    ...ORDER_SAGA_V2,
    changelog: null,
    releasedFingerprint: '5b5d8ed04935f58066f0a884f3b9ca84d8eb3e75981b187c66a3b06184b3b562',
  },
  {
    ...ORDER_SAGA_V3,
    changelog: changelogV3,
    releasedFingerprint: '33dbcd376c99338c2f8b6ef17f4cd59a45098941218fbc0ff62b37c15d7b22a4',
  },
];

/** The version new orders start on when the configuration names none. */
export const START_VERSION = '2';

const BY_VERSION = new Map(MACHINE_VERSIONS.map((v) => [v.version, v]));

/** A saga (or a configuration) names a machine version this build does not have. */
export class UnknownMachineVersionError extends Error {
  override readonly name: string = 'UnknownMachineVersionError';
  constructor(readonly found: string) {
    super(`order-saga machine version ${found} is not in this build (it knows ${knownMachineVersions().join(', ')})`);
  }
}

/** The versions this build can run, oldest first. */
export function knownMachineVersions(): string[] {
  return MACHINE_VERSIONS.map((v) => v.version);
}

export function isKnownMachineVersion(version: string): boolean {
  return BY_VERSION.has(version);
}

/** The version entry; throws UnknownMachineVersionError when this build does not have it. */
export function machineVersion(version: string): MachineVersion {
  const entry = BY_VERSION.get(version);
  if (!entry) throw new UnknownMachineVersionError(version);
  return entry;
}
