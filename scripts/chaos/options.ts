/** The chaos run's options: defaults, and the command line that sets them. */

/** Kills per minute of load, or one kill every N placed orders. */
export type KillRate = { per: 'minute'; value: number } | { per: 'orders'; every: number };

/** Shares of the order mix (normalised); sold-out orders come from the limited stock, not from here. */
export interface ScenarioMix {
  /** tok_success: completes (or fails sold out). */
  success: number;
  /** tok_declined: the charge is declined, seats go back. */
  declined: number;
  /** A customer cancel shortly after placing (tok_success or tok_slow). */
  cancel: number;
  /** tok_slow with PAYMENT_SLOW_MS > HOLD: the hold expires, the late capture is refunded. */
  late: number;
}

export interface ChaosOptions {
  orders: number;
  workers: number;
  killRate: KillRate;
  /** Share of sent messages delivered twice (FAULT_DUPLICATE_RATE of every service process). */
  duplicateRate: number;
  seed: number;
  /** Use this AWS endpoint instead of starting an emulator (no emulator pauses then). */
  endpoint?: string;
  redisRestarts: number;
  emulatorPauses: number;
  /** How long an emulator pause (SIGSTOP … SIGCONT) lasts, ms. */
  pauseMs: number;
  /** Share of worker restarts that arm a FAULT_CRASH_AT crash point. */
  crashPointShare: number;
  /** Share of worker stops that are graceful (SIGTERM) rather than SIGKILL (not counted as kills). */
  gracefulShare: number;
  /** Orders not yet final at once, at most: keeps the SQS backlog small. */
  maxInFlight: number;
  mix: ScenarioMix;
  /** Share of orders whose POST is sent again with the same Idempotency-Key. */
  replayShare: number;
  /** Inventory shards of every ticket type (issue 15; 1 = unsharded). */
  shards: number;
  holdSeconds: number;
  paymentSlowMs: number;
  stalledAfterMs: number;
  sweepIntervalMs: number;
  workerConcurrency: number;
  maxReceives: number;
  /**
   * MESSAGE_LEASE_SECONDS of the workers: how long a message held by a killed worker stays hidden
   * (the queues' own 30 s / 60 s no longer matter to the workers).
   */
  messageLeaseSeconds: number;
  /** Longest wait for every saga to end after the last order was placed. */
  drainTimeoutMs: number;
  /** Passed to the invariant checker. */
  stuckAfterMs: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Where logs and summary.json go (default .emulator/chaos/<run id>). */
  outDir?: string;
  /** Keep the resources on an external endpoint (with --endpoint) instead of deleting them. */
  keep: boolean;
}

export function defaultOptions(overrides: Partial<ChaosOptions> = {}): ChaosOptions {
  const orders = overrides.orders ?? 1000;
  const scaled = Math.max(1, Math.round(orders / 400));
  return {
    orders,
    workers: 4,
    killRate: { per: 'orders', every: 40 },
    duplicateRate: 0.1,
    seed: 42,
    redisRestarts: scaled,
    emulatorPauses: scaled,
    pauseMs: 3000,
    crashPointShare: 0.4,
    gracefulShare: 0.1,
    maxInFlight: 32,
    mix: { success: 0.45, declined: 0.12, cancel: 0.18, late: 0.25 },
    replayShare: 0.05,
    shards: 1,
    holdSeconds: 4,
    paymentSlowMs: 5000,
    stalledAfterMs: 5000,
    messageLeaseSeconds: 10,
    sweepIntervalMs: 2000,
    workerConcurrency: 16,
    maxReceives: 5,
    drainTimeoutMs: 240_000,
    stuckAfterMs: 30_000,
    logLevel: 'warn',
    keep: false,
    ...overrides,
  };
}

export const USAGE = `usage: npm run chaos -- [options]
  --orders N             orders to place (1000)
  --workers N            worker processes (4)
  --kill-rate R          SIGKILLs of random workers: "N/min" (or a bare number: per minute of load),
                         or "1/Norders" (one every N placed orders) (1/40orders)
  --duplicate-rate X     share of sent messages delivered twice (0.1)
  --seed N               PRNG seed for the order mix and the fault schedule (42)
  --endpoint URL         use this AWS endpoint instead of starting an emulator (no emulator pauses)
  --redis-restarts N     Redis stop/start cycles during the load (orders/400, at least 1)
  --emulator-pauses N    SIGSTOP/SIGCONT outages of the emulator (orders/400, at least 1)
  --pause-ms N           length of one emulator pause (3000)
  --crash-point-share X  share of restarts armed with a FAULT_CRASH_AT crash point (0.4)
  --graceful-share X     share of worker stops done with SIGTERM instead (0.1)
  --max-in-flight N      open orders at most (32)
  --replay-share X       share of orders POSTed twice with the same Idempotency-Key (0.05)
  --shards N             inventory shards of every ticket type, 1..100 (1)
  --hold-seconds N       HOLD_SECONDS (4)
  --payment-slow-ms N    PAYMENT_SLOW_MS, for tok_slow (5000)
  --stalled-after-ms N   STALLED_AFTER_MS, the sweeper's re-send threshold (5000)
  --sweep-interval-ms N  SWEEP_INTERVAL_MS (2000)
  --message-lease S      MESSAGE_LEASE_SECONDS of the workers, 3..900 (10)
  --worker-concurrency N WORKER_CONCURRENCY: messages one worker handles at once, per queue (16)
  --drain-timeout-ms N   longest wait for every saga to end (240000)
  --stuck-after-ms N     the checker's stuck threshold (30000)
  --log-level L          workers' LOG_LEVEL (warn)
  --out DIR              logs and summary.json (.emulator/chaos/<run id>)
  --keep                 with --endpoint: leave the tables and queues in place`;

export class UsageError extends Error {}

export function parseKillRate(text: string): KillRate {
  const perOrders = /^(\d+(?:\.\d+)?)\/(\d+)\s*orders?$/i.exec(text);
  if (perOrders) {
    const every = Number(perOrders[2]) / Number(perOrders[1]);
    if (!(every > 0)) throw new UsageError(`--kill-rate: ${text}`);
    return { per: 'orders', every };
  }
  const perMinute = /^(\d+(?:\.\d+)?)(?:\/min(?:ute)?)?$/i.exec(text);
  if (perMinute) return { per: 'minute', value: Number(perMinute[1]) };
  throw new UsageError(`--kill-rate: expected "N/min" or "1/Norders", got ${text}`);
}

export function describeKillRate(rate: KillRate): string {
  return rate.per === 'minute' ? `${rate.value}/min` : `1/${rate.every}orders`;
}

/** Parses argv (without node and script) over the defaults. */
export function parseChaosArgs(argv: string[]): ChaosOptions {
  const given: Partial<ChaosOptions> = {};
  const num = (flag: string, value: string | undefined, integer = true): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
      throw new UsageError(
        `${flag}: expected a ${integer ? 'non-negative integer' : 'non-negative number'}, got ${String(value)}`,
      );
    }
    return n;
  };
  const share = (flag: string, value: string | undefined): number => {
    const n = num(flag, value, false);
    if (n > 1) throw new UsageError(`${flag}: expected a share between 0 and 1, got ${String(value)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    if (flag.includes('=')) [flag, value] = [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)];
    const next = (): string | undefined => value ?? argv[++i];
    switch (flag) {
      case '--orders':
        given.orders = num(flag, next());
        break;
      case '--workers':
        given.workers = Math.max(1, num(flag, next()));
        break;
      case '--kill-rate':
        given.killRate = parseKillRate(next() ?? '');
        break;
      case '--duplicate-rate':
        given.duplicateRate = share(flag, next());
        break;
      case '--seed':
        given.seed = num(flag, next());
        break;
      case '--endpoint':
        given.endpoint = next();
        break;
      case '--redis-restarts':
        given.redisRestarts = num(flag, next());
        break;
      case '--emulator-pauses':
        given.emulatorPauses = num(flag, next());
        break;
      case '--pause-ms':
        given.pauseMs = num(flag, next());
        break;
      case '--crash-point-share':
        given.crashPointShare = share(flag, next());
        break;
      case '--graceful-share':
        given.gracefulShare = share(flag, next());
        break;
      case '--max-in-flight':
        given.maxInFlight = Math.max(1, num(flag, next()));
        break;
      case '--replay-share':
        given.replayShare = share(flag, next());
        break;
      case '--shards':
        given.shards = Math.min(100, Math.max(1, num(flag, next())));
        break;
      case '--hold-seconds':
        given.holdSeconds = Math.max(1, num(flag, next()));
        break;
      case '--payment-slow-ms':
        given.paymentSlowMs = num(flag, next());
        break;
      case '--stalled-after-ms':
        given.stalledAfterMs = num(flag, next());
        break;
      case '--sweep-interval-ms':
        given.sweepIntervalMs = num(flag, next());
        break;
      case '--message-lease':
        given.messageLeaseSeconds = Math.min(900, Math.max(3, num(flag, next())));
        break;
      case '--worker-concurrency':
        given.workerConcurrency = Math.max(1, num(flag, next()));
        break;
      case '--drain-timeout-ms':
        given.drainTimeoutMs = num(flag, next());
        break;
      case '--stuck-after-ms':
        given.stuckAfterMs = num(flag, next());
        break;
      case '--log-level': {
        const level = next();
        if (level !== 'error' && level !== 'warn' && level !== 'info' && level !== 'debug')
          throw new UsageError(`--log-level: ${String(level)}`);
        given.logLevel = level;
        break;
      }
      case '--out':
        given.outDir = next();
        break;
      case '--keep':
        given.keep = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return defaultOptions(given);
}
