/**
 * The service as real OS processes: one API process and N worker processes, each
 * `node --import tsx src/main.ts` (node loads tsx itself, so a signal reaches the service and not a
 * wrapper). Workers are killed at random and started again, sometimes with a crash point armed
 * (FAULT_CRASH_AT + a once-file of their own), so that they die at the worst instruction.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { toolAuth } from '../auth/tool-auth';
import path from 'node:path';
import type { ChaosOptions } from './options';
import type { Prng } from './prng';
import { ROOT, sleep, unrefSleep } from './infra';

/**
 * Where a restarted worker may be told to die: after a saga step was committed (its Events row) and
 * before its projection (the order item) and its send; after the projection and before the send
 * (issue 25: the Events row is the commit); or after a participant acted.
 */
export const CRASH_POINTS: readonly string[] = [
  'after-commit:SEATS_RESERVED',
  'after-commit:SEATS_UNAVAILABLE',
  'after-commit:PAYMENT_CAPTURED',
  'after-commit:PAYMENT_DECLINED',
  'after-commit:HOLD_EXPIRED',
  'after-commit:SEATS_CONFIRMED',
  'after-commit:SEATS_RELEASED',
  'after-commit:REFUND_ISSUED',
  'after-commit:NOTIFICATION_SENT',
  'after-projection:SEATS_RESERVED',
  'after-projection:SEATS_UNAVAILABLE',
  'after-projection:PAYMENT_CAPTURED',
  'after-projection:PAYMENT_DECLINED',
  'after-projection:HOLD_EXPIRED',
  'after-projection:SEATS_CONFIRMED',
  'after-projection:SEATS_RELEASED',
  'after-projection:REFUND_ISSUED',
  'after-projection:NOTIFICATION_SENT',
  'after-effect:ReserveSeats',
  'after-effect:ChargePayment',
  'after-effect:ConfirmSeats',
  'after-effect:ReleaseSeats',
  'after-effect:VoidPayment',
  'after-effect:RefundPayment',
  'after-effect:SendNotification',
];

export interface ServiceEnv {
  endpoint: string;
  /** DynamoDB's own endpoint (DynamoDB Local), or `endpoint` again. */
  dynamodbEndpoint: string;
  prefix: string;
  redisUrl: string;
  /** Directory for logs, send counts and crash once-files. */
  dir: string;
}

export function serviceEnvironment(
  base: ServiceEnv,
  options: ChaosOptions,
  extra: Record<string, string>,
): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  for (const name of Object.keys(inherited)) {
    if (name.startsWith('FAULT_') || name === 'PORT' || name === 'METRICS_PORT' || name === 'SERVICE_MODE')
      delete inherited[name];
  }
  return {
    ...inherited,
    ...toolAuth().env,
    AWS_ENDPOINT_URL: base.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: base.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: base.endpoint,
    AWS_REGION: 'us-east-1',
    RESOURCE_PREFIX: base.prefix,
    REDIS_URL: base.redisUrl,
    HOLD_SECONDS: String(options.holdSeconds),
    PAYMENT_SLOW_MS: String(options.paymentSlowMs),
    RECEIVE_WAIT_SECONDS: '1',
    STALLED_AFTER_MS: String(options.stalledAfterMs),
    MESSAGE_LEASE_SECONDS: String(options.messageLeaseSeconds),
    SWEEP_INTERVAL_MS: String(options.sweepIntervalMs),
    WORKER_CONCURRENCY: String(options.workerConcurrency),
    MAX_RECEIVES: String(options.maxReceives),
    LOG_LEVEL: options.logLevel,
    FAULT_DUPLICATE_RATE: String(options.duplicateRate),
    ...extra,
  };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NodeService {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly startedAt = Date.now();
  /** What we did to it, if anything: an exit we asked for is not a crash. */
  stopRequested: 'SIGKILL' | 'SIGTERM' | undefined;

  constructor(
    readonly label: string,
    env: NodeJS.ProcessEnv,
    readonly logFile: string,
    readonly crashPoint?: { name: string; onceFile: string },
  ) {
    const fd = openSync(logFile, 'a');
    try {
      this.child = spawn(
        process.execPath,
        ['--import', 'tsx', '--import', path.join(__dirname, 'count-sends.ts'), path.join('src', 'main.ts')],
        {
          cwd: ROOT,
          env: crashPoint
            ? { ...env, FAULT_CRASH_AT: crashPoint.name, FAULT_CRASH_ONCE_FILE: crashPoint.onceFile }
            : env,
          stdio: ['ignore', fd, fd],
        },
      );
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise<Exit>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        resolve({ code: this.child.exitCode, signal: this.child.signalCode });
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: 'SIGKILL' | 'SIGTERM'): void {
    this.stopRequested ??= signal;
    this.child.kill(signal);
  }

  /** Graceful first, then SIGKILL after graceMs. Resolves with how it ended. */
  async stop(graceMs = 15000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const done = await Promise.race([this.exited, unrefSleep(graceMs).then(() => undefined)]);
    if (done) return done;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  tail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

export interface PoolStats {
  started: number;
  /** SIGKILLs we sent. */
  kills: number;
  /** Workers that killed themselves at an armed crash point, by point. */
  crashPointKills: number;
  crashPointsHit: Record<string, number>;
  /** Restarts that armed a crash point. */
  crashPointsArmed: number;
  /** SIGTERM stops (graceful shutdown) during the run, and how many exited cleanly. */
  gracefulStops: number;
  gracefulClean: number;
  /** Exits nobody asked for, with the end of their log. */
  unexpectedExits: Array<{ label: string; code: number | null; signal: string | null; log: string }>;
}

interface Slot {
  index: number;
  incarnation: number;
  current: NodeService | undefined;
  restarting: boolean;
}

/** N worker slots; a stopped worker is started again after a short, random delay. */
export class WorkerPool {
  readonly stats: PoolStats = {
    started: 0,
    kills: 0,
    crashPointKills: 0,
    crashPointsHit: {},
    crashPointsArmed: 0,
    gracefulStops: 0,
    gracefulClean: 0,
    unexpectedExits: [],
  };
  private readonly slots: Slot[];
  private stopping = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    size: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly dir: string,
    private readonly prng: Prng,
    private readonly options: Pick<ChaosOptions, 'crashPointShare'>,
    private readonly log: (line: string) => void,
  ) {
    this.slots = Array.from({ length: size }, (_, index) => ({
      index,
      incarnation: 0,
      current: undefined,
      restarting: false,
    }));
    mkdirSync(path.join(dir, 'crash-once'), { recursive: true });
  }

  start(): void {
    for (const slot of this.slots) this.launch(slot, false);
  }

  /** Workers currently running. */
  get live(): number {
    return this.slots.filter((s) => s.current?.running).length;
  }

  /** Stops a random running worker (SIGKILL, or SIGTERM for a graceful stop). False if none runs. */
  stopRandom(signal: 'SIGKILL' | 'SIGTERM'): boolean {
    // Not one that is already being stopped (its exit has not been seen yet).
    const candidates = this.slots.filter(
      (s) => s.current?.running && !s.restarting && s.current.stopRequested === undefined,
    );
    if (candidates.length === 0) return false;
    const slot = this.prng.pick(candidates);
    const worker = slot.current!;
    if (signal === 'SIGKILL') this.stats.kills++;
    else this.stats.gracefulStops++;
    this.log(
      `${signal === 'SIGKILL' ? 'kill -9' : 'kill -TERM'} ${worker.label} (pid ${worker.child.pid}, up ${((Date.now() - worker.startedAt) / 1000).toFixed(1)} s)`,
    );
    worker.signal(signal);
    return true;
  }

  /** Stops every worker gracefully (SIGKILL after graceMs); no more restarts. */
  async stop(graceMs = 15000): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map((s) => s.current?.stop(graceMs) ?? Promise.resolve()));
    await Promise.all([...this.pending]);
  }

  /** Kills every worker at once, synchronously (exit handlers). */
  killNow(): void {
    this.stopping = true;
    for (const s of this.slots) if (s.current?.running) s.current.child.kill('SIGKILL');
  }

  private launch(slot: Slot, mayArm: boolean): void {
    slot.incarnation++;
    const label = `worker-${slot.index}.${slot.incarnation}`;
    let crashPoint: { name: string; onceFile: string } | undefined;
    if (mayArm && this.prng.next() < this.options.crashPointShare) {
      crashPoint = { name: this.prng.pick(CRASH_POINTS), onceFile: path.join(this.dir, 'crash-once', label) };
      this.stats.crashPointsArmed++;
    }
    const worker = new NodeService(label, this.env, path.join(this.dir, `${label}.log`), crashPoint);
    this.stats.started++;
    slot.current = worker;
    slot.restarting = false;
    if (crashPoint) this.log(`start ${label} armed with FAULT_CRASH_AT=${crashPoint.name}`);
    const watched = worker.exited.then((exit) => this.onExit(slot, worker, exit));
    this.pending.add(watched);
    void watched.finally(() => this.pending.delete(watched));
  }

  private async onExit(slot: Slot, worker: NodeService, exit: Exit): Promise<void> {
    if (worker.stopRequested === 'SIGTERM' && !this.stopping) {
      if (exit.code === 0) this.stats.gracefulClean++;
    } else if (worker.stopRequested === undefined && !this.stopping) {
      if (exit.signal === 'SIGKILL' && worker.crashPoint && existsSync(worker.crashPoint.onceFile)) {
        this.stats.crashPointKills++;
        this.stats.crashPointsHit[worker.crashPoint.name] =
          (this.stats.crashPointsHit[worker.crashPoint.name] ?? 0) + 1;
        this.log(`${worker.label} died at its crash point ${worker.crashPoint.name}`);
      } else {
        this.stats.unexpectedExits.push({
          label: worker.label,
          code: exit.code,
          signal: exit.signal,
          log: worker.tail(),
        });
        this.log(`${worker.label} exited unexpectedly (${exit.signal ?? `code ${exit.code}`})`);
      }
    }
    if (this.stopping) return;
    slot.restarting = true;
    await sleep(this.prng.between(300, 2500));
    if (this.stopping) return;
    this.launch(slot, true);
  }
}
