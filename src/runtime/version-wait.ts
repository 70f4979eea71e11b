/**
 * A saga whose snapshot names a machine version this build lacks is an operational condition,
 * not a poison message: a newer build wrote it (a rollout in progress, or this build is a
 * rollback). Its event is left on the queue for a build that knows the version, with a growing
 * wait, and the saga item records the wait so /ops shows which sagas wait on which version.
 *
 * The bound: SQS's redrive (init-scripts/resources.json, maxReceiveCount 10) would move the
 * message to the DLQ without a reason after its 10th receive. So the 10th receive dead-letters it
 * itself, with the reason "unknown machine version …"; an operator redrives it from /ops/dlq once
 * a build that knows the version runs. With the default 30 s base the waits are 30 s, 1, 2, 4, 8
 * min, then 15 min (SQS's visibility is not the limit; the cap is ours): about 75 min in all.
 */
import { REDRIVE_MAX_RECEIVE_COUNT } from '../infra/resources';
import { PoisonMessageError, RetryLaterError } from '../messaging/errors';

/** The longest single wait (ms): 15 minutes. */
export const MAX_VERSION_WAIT_MS = 900_000;
export const DEFAULT_VERSION_WAIT_BASE_MS = 30_000;

/** The wait before the `receiveCount`-th delivery is seen again: base × 2^(n-1), at most 15 min (ms). */
export function versionWaitDelayMs(receiveCount: number, baseMs: number = DEFAULT_VERSION_WAIT_BASE_MS): number {
  return Math.min(MAX_VERSION_WAIT_MS, baseMs * 2 ** Math.max(0, Math.min(20, receiveCount - 1)));
}

/** Whether this delivery is the last SQS's redrive allows before it moves the message itself. */
export function isLastVersionWait(receiveCount: number, maxReceiveCount: number = REDRIVE_MAX_RECEIVE_COUNT): boolean {
  return receiveCount >= maxReceiveCount;
}

/** The saga runs on a machine version this build lacks: wait for a build that has it. */
export class MachineVersionUnavailableError extends RetryLaterError {
  override readonly name: string = 'MachineVersionUnavailableError';
  constructor(
    readonly orderId: string,
    readonly machineVersion: string,
    retryAfterMs: number,
    readonly receiveCount: number,
  ) {
    super(
      `unknown machine version ${machineVersion}: saga ${orderId} waits for a build that knows it (delivery ${receiveCount}, next look in ${Math.round(retryAfterMs / 1000)} s)`,
      retryAfterMs,
    );
  }
}

/** The wait ran to SQS's redrive bound: dead-lettered with its reason, for an operator to redrive. */
export class MachineVersionWaitExhaustedError extends PoisonMessageError {
  override readonly name: string = 'MachineVersionWaitExhaustedError';
  constructor(orderId: string, machineVersion: string, receiveCount: number) {
    super(
      `unknown machine version ${machineVersion}: saga ${orderId} still waits after ${receiveCount} deliveries; ` +
        'deploy a build that knows it, then redrive this message (POST /ops/dlq/redrive)',
    );
  }
}
