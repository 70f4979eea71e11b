/**
 * The fault schedule of a chaos run, driven by the load: worker kills (every N placed orders, or
 * at random moments at N per minute), Redis crashes and restarts, emulator outages (SIGSTOP …
 * SIGCONT). Each kind runs one at a time; everything stops when the load is placed.
 */
import type { OwnEmulator, OwnRedis } from './infra';
import { sleep } from './infra';
import type { ChaosOptions } from './options';
import type { Prng } from './prng';
import type { WorkerPool } from './services';

export interface FaultStats {
  redisRestarts: number;
  redisDownMs: number;
  emulatorPauses: number;
  emulatorPausedMs: number;
  /** What happened when, for the summary. */
  timeline: Array<{ atMs: number; what: string }>;
}

export class FaultSchedule {
  readonly stats: FaultStats = {
    redisRestarts: 0,
    redisDownMs: 0,
    emulatorPauses: 0,
    emulatorPausedMs: 0,
    timeline: [],
  };
  private nextKillAt: number;
  private readonly redisAt: number[];
  private readonly pauseAt: number[];
  private readonly running = new Set<Promise<void>>();
  private redisBusy = false;
  private emulatorBusy = false;
  private stopped = false;
  private minuteTimer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();

  constructor(
    private readonly options: ChaosOptions,
    private readonly prng: Prng,
    private readonly pool: WorkerPool,
    private readonly redis: OwnRedis,
    private readonly emulator: OwnEmulator | undefined,
    private readonly log: (line: string) => void,
  ) {
    const n = options.orders;
    this.nextKillAt = options.killRate.per === 'orders' ? this.killGap() : Number.POSITIVE_INFINITY;
    this.redisAt = Array.from({ length: options.redisRestarts }, (_, j) =>
      Math.round((n * (j + 1)) / (options.redisRestarts + 1)),
    );
    const pauses = emulator ? options.emulatorPauses : 0;
    this.pauseAt = Array.from({ length: pauses }, (_, j) =>
      Math.min(n - 1, Math.round((n * (j + 1)) / (pauses + 1) + n / (2 * (pauses + 1)))),
    );
  }

  /** Starts time-based kills (a kill rate per minute). */
  start(): void {
    if (this.options.killRate.per !== 'minute' || this.options.killRate.value <= 0) return;
    const meanMs = 60000 / this.options.killRate.value;
    const schedule = () => {
      // Exponential gaps: kills land at random moments, not on a beat.
      const gap = -Math.log(1 - this.prng.next()) * meanMs;
      this.minuteTimer = setTimeout(() => {
        if (this.stopped) return;
        this.kill();
        schedule();
      }, gap);
    };
    schedule();
  }

  /** Called after each order is handed to the driver, with how many were. */
  onOrder(count: number): void {
    if (this.stopped) return;
    while (count >= this.nextKillAt) {
      this.kill();
      this.nextKillAt += this.killGap();
    }
    if (this.redisAt.length > 0 && count >= this.redisAt[0] && !this.redisBusy) {
      this.redisAt.shift();
      this.track(this.restartRedis());
    }
    if (this.pauseAt.length > 0 && count >= this.pauseAt[0] && !this.emulatorBusy) {
      this.pauseAt.shift();
      this.track(this.pauseEmulator());
    }
  }

  /** No new faults; waits for those under way (a paused emulator is resumed). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.minuteTimer) clearTimeout(this.minuteTimer);
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private killGap(): number {
    const every = this.options.killRate.per === 'orders' ? this.options.killRate.every : Number.POSITIVE_INFINITY;
    return Math.max(1, Math.round(every * this.prng.between(0.5, 1.5)));
  }

  private note(what: string): void {
    this.stats.timeline.push({ atMs: Date.now() - this.t0, what });
    this.log(what);
  }

  private kill(): void {
    this.pool.stopRandom('SIGKILL');
    // Now and then a graceful stop of another worker too: SIGTERM must drain, not lose.
    if (this.prng.next() < this.options.gracefulShare) this.pool.stopRandom('SIGTERM');
  }

  private track(task: Promise<void>): void {
    const tracked = task
      .catch((error: unknown) => this.log(`fault failed: ${String(error)}`))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private async restartRedis(): Promise<void> {
    this.redisBusy = true;
    try {
      const downMs = Math.round(this.prng.between(1500, 4000));
      this.note(`redis: crash (SIGKILL), down for ${downMs} ms`);
      const t = Date.now();
      await this.redis.crash();
      await sleep(downMs);
      await this.redis.start();
      this.stats.redisDownMs += Date.now() - t;
      this.stats.redisRestarts++;
      this.note('redis: back');
    } finally {
      this.redisBusy = false;
    }
  }

  private async pauseEmulator(): Promise<void> {
    const emulator = this.emulator;
    if (!emulator) return;
    this.emulatorBusy = true;
    const ms = Math.round(this.options.pauseMs * this.prng.between(0.75, 1.25));
    this.note(`emulator: SIGSTOP for ${ms} ms`);
    const t = Date.now();
    emulator.pause();
    try {
      await sleep(ms);
    } finally {
      emulator.resume();
      this.stats.emulatorPausedMs += Date.now() - t;
      this.stats.emulatorPauses++;
      this.emulatorBusy = false;
      this.note('emulator: SIGCONT');
    }
  }
}
