/**
 * The pure rules the TicketOrders stream tail (src/store/order-stream.ts) uses on a
 * TrimmedDataAccessException: when the exception may have lost records (a gap), and which records
 * of the TRIM_HORIZON re-read are new (sequence numbers grow within a shard). The engine's side is
 * in test/store/order-stream.test.ts.
 */
import { isAfterSequence, RECORD_RETENTION_MS, trimMayHaveLostRecords } from '../../src/store/order-stream';

describe('trimMayHaveLostRecords', () => {
  const now = Date.parse('2026-12-06T12:00:00.000Z');
  const hour = 3600 * 1000;
  it('is false when every record past the position was written under 23 h ago (24 h less 1 h for clocks)', () => {
    expect(trimMayHaveLostRecords(now - 1000, now)).toBe(false);
    expect(trimMayHaveLostRecords(now - 23 * hour + 1, now)).toBe(false);
  });
  it('is true from 23 h on, and when the position is of unknown age', () => {
    expect(trimMayHaveLostRecords(now - 23 * hour, now)).toBe(true);
    expect(trimMayHaveLostRecords(now - RECORD_RETENTION_MS, now)).toBe(true);
    expect(trimMayHaveLostRecords(now - 25 * hour, now)).toBe(true);
    expect(trimMayHaveLostRecords(undefined, now)).toBe(true);
  });
  it('the retention is AWS’s 24 h, in ms', () => {
    expect(RECORD_RETENTION_MS).toBe(86_400_000);
  });
});

describe('isAfterSequence', () => {
  it('compares decimal sequence numbers as numbers, not strings', () => {
    // DynamoDB Local pads to 21 digits, moto writes 22, AWS up to 40.
    expect(isAfterSequence('000000000000000000013', '000000000000000000012')).toBe(true);
    expect(isAfterSequence('000000000000000000012', '000000000000000000012')).toBe(false);
    expect(isAfterSequence('9', '10')).toBe(false);
    expect(isAfterSequence('100000000000000000000000000000000000001', '99999999999999999999999999999999999999')).toBe(
      true,
    );
  });
  it('is true when nothing was read yet', () => {
    expect(isAfterSequence('000000000000000000001', undefined)).toBe(true);
  });
});
