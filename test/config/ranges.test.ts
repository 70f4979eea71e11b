/**
 * Every numeric setting is range-checked at start-up against what the machine, the participants
 * and AWS accept (src/config/ranges.ts). Pure (no AWS).
 */
import { ConfigError, loadConfig } from '../../src/config/config';
import { SETTING_RANGES } from '../../src/config/ranges';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../../src/config/auth-config';

describe('setting ranges', () => {
  it.each([
    ['HOLD_SECONDS', '0'], // ReserveSeats requires holdSeconds >= 1: every order would dead-letter
    ['HOLD_SECONDS', '300000000000'], // an expiresAt in year 11533: every reply would dead-letter
    ['HOLD_SECONDS', '1209601'], // one second past SQS retention
    ['PAYMENT_SLOW_MS', '115001'], // with its 5 s margin, past the consumer's 120 s handler deadline
    ['MAX_RECEIVES', '0'],
    ['MAX_RECEIVES', '1001'], // SQS maxReceiveCount is 1..1000
    ['WORKER_CONCURRENCY', '0'],
    ['WORKER_CONCURRENCY', '20001'], // SQS FIFO in-flight limit
    ['RECEIVE_WAIT_SECONDS', '21'],
    ['SEND_BATCH_WINDOW_MS', '101'], // every saga step would wait longer for company than its calls take
    ['SEND_BATCH_WINDOW_MS', '-1'],
    ['SEND_BATCH_LINGER_MS', '101'], // as the window: a busy queue's sends would wait longer than their calls take
    ['MAX_BODY_BYTES', '262145'], // bigger than an SQS message
    ['PORT', '65536'],
    ['STALLED_AFTER_MS', '999'],
    ['HOLD_SECONDS', '1e3'],
    ['HOLD_SECONDS', '-5'],
    ['STREAM_POLL_MS', '99'], // a GetItem per stream every few ms
    ['STREAM_POLL_MS', '60001'],
    ['AUTH_MAX_TOKEN_LIFETIME_SECONDS', '59'], // shorter than any provider's tokens
    ['AUTH_MAX_TOKEN_LIFETIME_SECONDS', '604801'], // a token valid for more than a week
  ])('refuses %s=%s at start-up, naming the variable and its range', (name, value) => {
    const range = SETTING_RANGES[name];
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(
      `${name}=${value} is not an integer in ${range.min}..${range.max}`,
    );
  });

  it('accepts both ends of every range', () => {
    for (const [name, range] of Object.entries(SETTING_RANGES)) {
      expect(() => loadConfig({ [name]: String(range.min) })).not.toThrow();
      expect(() => loadConfig({ [name]: String(range.max) })).not.toThrow();
    }
    expect(loadConfig({ HOLD_SECONDS: '1' }).holdSeconds).toBe(1);
    expect(loadConfig({ HOLD_SECONDS: '1209600' }).holdSeconds).toBe(1_209_600);
  });

  it('the longest hold still gives a valid date-time for the reservation', () => {
    const expiresAt = new Date(Date.now() + SETTING_RANGES.HOLD_SECONDS.max * 1000).toISOString();
    expect(expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ HOLD_SECONDS: '0', MAX_RECEIVES: '5000' })).toThrow(/HOLD_SECONDS=0 .*MAX_RECEIVES=5000/);
  });

  it('the defaults lie inside their ranges', () => {
    const c = loadConfig({});
    const defaults: Record<string, number> = {
      PORT: c.port,
      HOLD_SECONDS: c.holdSeconds,
      PAYMENT_SLOW_MS: c.paymentSlowMs,
      MAX_RECEIVES: c.maxReceives,
      WORKER_CONCURRENCY: c.workerConcurrency,
      RECEIVE_WAIT_SECONDS: c.receiveWaitSeconds,
      SEND_BATCH_WINDOW_MS: c.sendBatchWindowMs,
      SEND_BATCH_LINGER_MS: c.sendBatchLingerMs,
      MESSAGE_LEASE_SECONDS: c.messageLeaseSeconds,
      STALLED_AFTER_MS: c.stalledAfterMs,
      SWEEP_INTERVAL_MS: c.sweepIntervalMs,
      STUCK_AFTER_MS: c.stuckAfterMs,
      MAX_BODY_BYTES: c.maxBodyBytes,
      MACHINE_VERSION_RETRY_SECONDS: c.machineVersionRetrySeconds,
      ADMISSION_MAX_ACTIVE_ORDERS: c.admissionMaxActiveOrders,
      STREAM_POLL_MS: c.streamPollMs,
      STREAM_MAX_PER_CALLER: c.streamMaxPerCaller,
      SHUTDOWN_TIMEOUT_MS: c.shutdownTimeoutMs,
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    };
    expect(Object.keys(defaults).sort()).toEqual(Object.keys(SETTING_RANGES).sort());
    for (const [name, value] of Object.entries(defaults)) {
      expect([name, value >= SETTING_RANGES[name].min && value <= SETTING_RANGES[name].max]).toEqual([name, true]);
    }
  });
});
