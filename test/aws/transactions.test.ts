/**
 * The one reading of a cancelled DynamoDB transaction that every table owner shares
 * (src/aws/transactions.ts): a condition failure is an answer, a conflict is retried, anything
 * else is a fault. Pure: the errors are shaped as the SDK throws them (name + CancellationReasons).
 */
import { transactionRace } from '../../src/aws/transactions';

function cancelled(...codes: string[]): Error {
  return Object.assign(new Error('Transaction cancelled'), {
    name: 'TransactionCanceledException',
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

describe('transactionRace', () => {
  it('reads condition failures with the index of each failing item, even beside a conflict', () => {
    expect(transactionRace(cancelled('None', 'ConditionalCheckFailed', 'TransactionConflict'))).toMatchObject({
      kind: 'condition',
      failedIndexes: [1],
      codes: ['None', 'ConditionalCheckFailed', 'TransactionConflict'],
    });
    expect(transactionRace(cancelled('ConditionalCheckFailed', 'None', 'ConditionalCheckFailed'))).toMatchObject({
      kind: 'condition',
      failedIndexes: [0, 2],
    });
  });

  it('reads a cancellation by conflict alone, and a single-item TransactionConflictException, as a conflict', () => {
    expect(transactionRace(cancelled('None', 'TransactionConflict'))).toMatchObject({ kind: 'conflict' });
    const single = Object.assign(new Error('conflict'), { name: 'TransactionConflictException' });
    expect(transactionRace(single)).toMatchObject({ kind: 'conflict', codes: [] });
  });

  it('reads any other reason, no reason, or another error as a fault (null: rethrow, never retry)', () => {
    expect(transactionRace(cancelled('ConditionalCheckFailed', 'ValidationError'))).toBeNull();
    expect(transactionRace(cancelled('TransactionConflict', 'ThrottlingError'))).toBeNull();
    expect(transactionRace(cancelled('None', 'None'))).toBeNull();
    expect(transactionRace(Object.assign(new Error('x'), { name: 'ValidationException' }))).toBeNull();
    expect(transactionRace('not an error')).toBeNull();
  });
});
