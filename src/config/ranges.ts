/**
 * The range of every numeric setting, and where each bound comes from: what the saga machine, the
 * participants and AWS accept. loadConfig refuses a value outside its range at start-up, naming the
 * variable and the range, instead of letting it fail later (HOLD_SECONDS=0 was refused by every
 * ReserveSeats and dead-lettered; 300000000000 put expiresAt in year 11533).
 * The README's configuration table and docs/architecture.md repeat these ranges.
 */

import {
  SQS_MAX_IN_FLIGHT_FIFO,
  SQS_MAX_MESSAGE_BYTES,
  SQS_MAX_RECEIVE_COUNT,
  SQS_MAX_RETENTION_SECONDS,
  SQS_MAX_WAIT_SECONDS,
} from '../aws/sqs-limits';

/**
 * How long a message handler may run before the consumer gives the message back (ms): the default
 * of the consumers (src/messaging/consumer.ts), below SQS's 12-h visibility limit.
 */
export const DEFAULT_HANDLER_TIMEOUT_MS = 120_000;

/**
 * The payment participant's margin (ms) around a gateway call: a charge's lease is the gateway's
 * slow-call bound plus this (src/participants/payment.ts), and both must end within the handler's deadline.
 */
export const GATEWAY_TIMEOUT_MARGIN_MS = 5000;

/** The default of SEND_BATCH_WINDOW_MS: a lone message waits at most 2 ms for company. */
export const DEFAULT_SEND_BATCH_WINDOW_MS = 2;
/** The largest SEND_BATCH_WINDOW_MS (ms). */
export const MAX_SEND_BATCH_WINDOW_MS = 100;
/**
 * The default of SEND_BATCH_LINGER_MS (ms): how long a partial batch to a busy queue (its previous
 * batch went at most this long ago) may wait to fill. 20 ms: at ~16 sagas/s a participant's queue
 * sees a message every 30–60 ms, so a batch gains about half a message more for at most 20 ms on
 * each of the order's four hops (src/messaging/linger.ts).
 */
export const DEFAULT_SEND_BATCH_LINGER_MS = 20;

export interface SettingRange {
  min: number;
  max: number;
  /** Why these bounds, in a few words (shown in the start-up error). */
  why: string;
}

export const SETTING_RANGES: Readonly<Record<string, SettingRange>> = {
  PORT: { min: 0, max: 65_535, why: 'a TCP port; 0 picks a free one' },
  // ReserveSeats requires holdSeconds >= 1 (machines/order-saga/schemas.ts). A hold may last as long
  // as SQS keeps messages: the hold's timer and any dead letter about it must outlive it.
  HOLD_SECONDS: {
    min: 1,
    max: SQS_MAX_RETENTION_SECONDS,
    why: 'ReserveSeats needs >= 1 s; at most SQS retention (14 days)',
  },
  // A charge runs inside one handler call: the delay plus the gateway margin must end before the
  // consumer abandons the handler (its deadline, 120 s), or the charge would be resumed forever.
  PAYMENT_SLOW_MS: {
    min: 0,
    max: DEFAULT_HANDLER_TIMEOUT_MS - GATEWAY_TIMEOUT_MARGIN_MS,
    why: `the charge plus its ${GATEWAY_TIMEOUT_MARGIN_MS / 1000} s margin must end within the consumer's handler deadline (${DEFAULT_HANDLER_TIMEOUT_MS / 1000} s)`,
  },
  MAX_RECEIVES: { min: 1, max: SQS_MAX_RECEIVE_COUNT, why: 'SQS maxReceiveCount is 1..1000' },
  WORKER_CONCURRENCY: {
    min: 1,
    max: SQS_MAX_IN_FLIGHT_FIFO,
    why: 'SQS keeps at most 20,000 messages in flight per FIFO queue',
  },
  RECEIVE_WAIT_SECONDS: { min: 0, max: SQS_MAX_WAIT_SECONDS, why: 'SQS long polls last 0..20 s' },
  // How long a message waits for others bound for the same queue (src/messaging/batching-sender.ts):
  // 0 sends on the next tick; past 100 ms every saga step would wait longer than its own AWS calls take.
  SEND_BATCH_WINDOW_MS: {
    min: 0,
    max: MAX_SEND_BATCH_WINDOW_MS,
    why: 'a message waits at most this long for a batch: 0 (next tick) .. 100 ms',
  },
  // The same bound for a busy queue (src/messaging/linger.ts); below SEND_BATCH_WINDOW_MS it is that.
  SEND_BATCH_LINGER_MS: {
    min: 0,
    max: MAX_SEND_BATCH_WINDOW_MS,
    why: 'a message to a busy queue waits at most this long for a batch: 0 .. 100 ms',
  },
  // Under 3 s the heartbeat (every lease/3, at least 1 s) could not keep a message; over 900 s a
  // dead worker's message (and its FIFO group) would wait longer than SQS's longest delay.
  MESSAGE_LEASE_SECONDS: {
    min: 3,
    max: 900,
    why: 'the heartbeat needs >= 3 s; a dead worker holds a FIFO group at most 15 min',
  },
  // Under 1 s the sweeper would re-send commands whose step is simply still running; past SQS
  // retention the messages it would re-send are gone anyway.
  STALLED_AFTER_MS: { min: 1_000, max: SQS_MAX_RETENTION_SECONDS * 1000, why: '1 s .. SQS retention (14 days)' },
  SWEEP_INTERVAL_MS: { min: 100, max: 86_400_000, why: 'at least 100 ms between sweeps, at least one sweep a day' },
  STUCK_AFTER_MS: { min: 1_000, max: SQS_MAX_RETENTION_SECONDS * 1000, why: '1 s .. SQS retention (14 days)' },
  // A body larger than an SQS message could not travel as the order's commands.
  // 0 turns the waiting room off; a limit beyond the FIFO queue's in-flight messages would never bind.
  ADMISSION_MAX_ACTIVE_ORDERS: {
    min: 0,
    max: SQS_MAX_IN_FLIGHT_FIFO,
    why: '0 (no waiting room) .. the saga queue in-flight limit (20,000)',
  },
  MAX_BODY_BYTES: { min: 1_024, max: SQS_MAX_MESSAGE_BYTES, why: 'at least 1 KiB, at most an SQS message (256 KiB)' },
  // The first wait of an event whose saga's machine version this build lacks; it doubles up to
  // 15 min (src/runtime/version-wait.ts), so a first wait above that would not grow.
  MACHINE_VERSION_RETRY_SECONDS: { min: 1, max: 900, why: 'the wait doubles from here up to 15 min' },
  // A live saga stream costs one GetItem per open stream per poll (docs/operations.md): under
  // 100 ms that is a read storm; over a minute the page no longer looks live.
  STREAM_POLL_MS: {
    min: 100,
    max: 60_000,
    why: 'one GetItem per watched saga per poll: at least 100 ms, at most a minute',
  },
  // At least one page per caller; past 1,000 the cap no longer protects the process's sockets.
  STREAM_MAX_PER_CALLER: { min: 1, max: 1_000, why: 'open streams + feeds per caller per process: 1..1000' },
  // Under 1 s in-flight requests could not finish; over 2 min an orchestrator (Kubernetes' 30 s
  // grace, ECS's 30 s stopTimeout by default, at most 120 s) kills the process first.
  SHUTDOWN_TIMEOUT_MS: { min: 1_000, max: 120_000, why: 'a graceful stop: 1 s .. 2 min (ECS stopTimeout max)' },
  // A token's exp - iat (src/http/auth/verifier.ts): under a minute no provider's token would pass;
  // over a week a stolen token stays useful for longer than anyone would notice.
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: { min: 60, max: 604_800, why: 'a token lives at least a minute, at most a week' },
};

/** The problems with the numeric settings in `env`: `NAME=value is outside min..max (why)`. */
export function rangeProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const [name, range] of Object.entries(SETTING_RANGES)) {
    const raw = env[name];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
      problems.push(`${name}=${raw} is not an integer in ${range.min}..${range.max} (${range.why})`);
    }
  }
  return problems;
}
