/**
 * The adaptive linger rule (src/messaging/linger.ts), on a clock the test moves: idle (no flush
 * within busyMs) → a partial batch waits only idleMs; busy → up to busyMs. Pure (no AWS).
 */
import { Linger } from '../../src/messaging/linger';

function clock(): { now: () => number; at: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, at: (ms) => (t = 1_000_000 + ms) };
}

it('idle: before any flush, and once the last flush is older than busyMs, a batch waits only idleMs', () => {
  const c = clock();
  const linger = new Linger({ idleMs: 2, busyMs: 20 }, c.now);
  expect([linger.busy, linger.delayMs()]).toEqual([false, 2]);
  c.at(0);
  linger.flushed();
  c.at(21);
  expect([linger.busy, linger.delayMs()]).toEqual([false, 2]);
});

it('busy: within busyMs of the last flush, a batch may wait up to busyMs', () => {
  const c = clock();
  const linger = new Linger({ idleMs: 0, busyMs: 20 }, c.now);
  c.at(0);
  linger.flushed();
  c.at(5);
  expect([linger.busy, linger.delayMs()]).toEqual([true, 20]);
  c.at(20);
  expect(linger.delayMs()).toBe(20);
  // A flush now starts a new busy period.
  linger.flushed();
  c.at(39);
  expect(linger.delayMs()).toBe(20);
});

it('refuses bounds that are not non-negative integers, or a busy bound below the idle one', () => {
  expect(() => new Linger({ idleMs: -1, busyMs: 20 })).toThrow(RangeError);
  expect(() => new Linger({ idleMs: 0, busyMs: 2.5 })).toThrow(RangeError);
  expect(() => new Linger({ idleMs: 10, busyMs: 5 })).toThrow(/at least idleMs/);
});
