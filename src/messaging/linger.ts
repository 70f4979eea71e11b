/**
 * The adaptive linger of a batch (issue 25, "cost and speed"): how long a partial batch bound for one
 * queue waits for company before its call goes (SendMessageBatch: batching-sender.ts;
 * DeleteMessageBatch: consumer.ts). A consumer's wait between two receives is its own, simpler rule
 * (consumer.ts, receiveLingerMs).
 *
 * The rule: when the previous flush to that queue was at most `busyMs` ago the queue is busy, and a
 * partial batch may wait up to `busyMs` for others to join it (a full one never waits); otherwise the
 * system is idle and it waits only `idleMs` (0: the next tick), so that nothing waits when the system
 * is idle. Why the previous flush: at the rate it shows (one flush within `busyMs`), another entry is
 * likely within the next `busyMs`, so the wait buys a fuller batch; at a lower rate it would mostly
 * buy latency.
 */

export interface LingerBounds {
  /** ms a partial batch waits when the queue is idle (0: the next tick). */
  idleMs: number;
  /** ms a partial batch may wait when the queue is busy; also what "busy" means (a flush this recent). */
  busyMs: number;
}

/** One queue's linger state: when it last flushed. `now` in ms (monotonic: performance.now). */
export class Linger {
  private lastFlushAt = Number.NEGATIVE_INFINITY;

  /** @throws RangeError when a bound is not a non-negative integer, or busyMs < idleMs. */
  constructor(
    private readonly bounds: LingerBounds,
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const [name, value] of Object.entries(bounds))
      if (!Number.isInteger(value) || value < 0)
        throw new RangeError(`linger ${name} must be a non-negative integer (ms), got ${value}`);
    if (bounds.busyMs < bounds.idleMs)
      throw new RangeError(`linger busyMs (${bounds.busyMs}) must be at least idleMs (${bounds.idleMs})`);
  }

  /** Whether the previous flush was at most `busyMs` ago. */
  get busy(): boolean {
    return this.now() - this.lastFlushAt <= this.bounds.busyMs;
  }

  /** ms a partial batch started now may wait: `busyMs` when busy, `idleMs` when idle. */
  delayMs(): number {
    return this.busy ? this.bounds.busyMs : this.bounds.idleMs;
  }

  /** Records a flush (a batch call made), now. */
  flushed(): void {
    this.lastFlushAt = this.now();
  }
}
