/**
 * Every long-lived connection this process serves (the SSE streams of src/console/streams.ts,
 * the inspector WebSocket feed of src/console/inspector-feed.ts), in one registry that
 * enforces three rules (docs/security.md, "Live connections"):
 *  - a connection ends when its token does: at the token's verified `exp` plus the clock skew the
 *    verifier allows (AUTH_CLOCK_SKEW_SECONDS), the same instant a plain request with that token
 *    starts getting 401. It is told why ('token-expired') and closed; the client reconnects with
 *    a fresh token (SSE: Last-Event-ID resumes).
 *  - a caller (the token's `sub`) holds at most `maxPerCaller` open streams and feeds
 *    (STREAM_MAX_PER_CALLER) in this process; one more is refused with 429 and Retry-After.
 *  - on shutdown every connection is told 'shutdown' (reconnect elsewhere/later) and closed, and
 *    no new one is opened (503).
 */
import { ProblemError } from '../../http/problem';
import type { Principal } from '../../http/auth/principal';
import type { Logger } from '../../observability/logger';

/** Why the server ended a live connection. */
export type LiveEndReason = 'token-expired' | 'shutdown';

/** Retry-After (s) of a 429 past the per-caller cap: a page closes or a token expires in seconds. */
export const LIVE_CAP_RETRY_AFTER_SECONDS = 5;

/** Node's setTimeout fires at once for delays above 2^31-1 ms (24.8 days): longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LiveConnectionsOptions {
  /** Open streams + feeds one caller may hold in this process (STREAM_MAX_PER_CALLER). */
  maxPerCaller: number;
  /** The verifier's clock tolerance (AUTH_CLOCK_SKEW_SECONDS): a token is accepted until exp + this. */
  clockSkewSeconds: number;
  logger: Logger;
  now?: () => number;
}

/** One registered connection. `release()` when it closes for any reason (idempotent). */
export interface LiveHandle {
  release(): void;
}

interface Entry {
  caller: string;
  end: (reason: LiveEndReason) => void;
  timer: NodeJS.Timeout | undefined;
}

export class LiveConnections {
  private readonly entries = new Set<Entry>();
  private readonly perCaller = new Map<string, number>();
  private stopping = false;
  private readonly now: () => number;

  constructor(private readonly options: LiveConnectionsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Open connections now (all callers). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Registers a connection of `principal` before anything is written to it. `end(reason)` is
   * called at most once, when the token expires or the process shuts down: it must tell the
   * client why and close the connection (and the connection's close must call release()).
   * @throws ProblemError 429 (Retry-After) past the per-caller cap; 503 while shutting down;
   *   401 when the token has already expired.
   */
  open(principal: Principal, end: (reason: LiveEndReason) => void): LiveHandle {
    if (this.stopping)
      throw new ProblemError('service-unavailable', 'the server is shutting down; reconnect in a moment', undefined, {
        retryAfter: 1,
      });
    const deadline = this.deadlineOf(principal);
    if (deadline !== undefined && deadline <= this.now())
      throw new ProblemError('unauthorized', 'the bearer token has expired', [
        { field: 'Authorization', message: 'the token has expired' },
      ]);
    const caller = `sub:${principal.sub}`;
    const held = this.perCaller.get(caller) ?? 0;
    if (held >= this.options.maxPerCaller)
      throw new ProblemError(
        'too-many-requests',
        `at most ${this.options.maxPerCaller} open streams and feeds per caller; close one, or retry after ${LIVE_CAP_RETRY_AFTER_SECONDS} s`,
        undefined,
        { retryAfter: LIVE_CAP_RETRY_AFTER_SECONDS, limit: this.options.maxPerCaller },
      );
    this.perCaller.set(caller, held + 1);
    const entry: Entry = { caller, end, timer: undefined };
    this.entries.add(entry);
    if (deadline !== undefined) this.arm(entry, deadline);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.drop(entry);
      },
    };
  }

  /** Tells every open connection 'shutdown' and refuses new ones; returns how many were told. */
  shutdown(): number {
    this.stopping = true;
    const open = [...this.entries];
    for (const entry of open) this.finish(entry, 'shutdown');
    return open.length;
  }

  /** exp + clock skew in epoch ms, or undefined for a principal without an exp. */
  private deadlineOf(principal: Principal): number | undefined {
    return principal.expiresAt === undefined ? undefined : (principal.expiresAt + this.options.clockSkewSeconds) * 1000;
  }

  private arm(entry: Entry, deadline: number): void {
    const wait = deadline - this.now();
    entry.timer = setTimeout(
      () => {
        if (this.now() < deadline) this.arm(entry, deadline);
        else this.finish(entry, 'token-expired');
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
    entry.timer.unref();
  }

  private finish(entry: Entry, reason: LiveEndReason): void {
    if (!this.entries.has(entry)) return;
    this.drop(entry);
    try {
      entry.end(reason);
    } catch (error) {
      this.options.logger.warn('live connection: ending failed', { reason, error: String(error) });
    }
  }

  private drop(entry: Entry): void {
    if (!this.entries.delete(entry)) return;
    clearTimeout(entry.timer);
    const left = (this.perCaller.get(entry.caller) ?? 1) - 1;
    if (left > 0) this.perCaller.set(entry.caller, left);
    else this.perCaller.delete(entry.caller);
  }
}
