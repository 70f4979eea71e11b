/**
 * The cost meter's arithmetic by AWS's rules (item sizes, 1 KB writes, 4 KB reads, 2x in
 * transactions, 64 KB SQS chunks). Pure: no AWS. The meter on real engines is covered by
 * test/observability/metrics.test.ts.
 */
import {
  attributeValueSize,
  computeDynamoUnits,
  CostMeter,
  itemSize,
  plainValueSize,
  PRICES,
  PROVISIONED_PRICES,
} from '../../src/observability/cost-meter';

describe('item sizes (AWS developer guide, "Item sizes")', () => {
  it('counts names and values: strings in UTF-8 bytes, numbers by significant digits', () => {
    expect(itemSize({ name: { S: 'abc' } })).toBe(4 + 3);
    expect(attributeValueSize({ S: 'é' })).toBe(2);
    expect(attributeValueSize({ N: '12345' })).toBe(4); // ceil(5 / 2) + 1
    expect(attributeValueSize({ N: '-0.001200' })).toBe(2); // significant digits: 12
    expect(attributeValueSize({ BOOL: true })).toBe(1);
    expect(attributeValueSize({ L: [{ S: 'ab' }, { N: '1' }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(attributeValueSize({ M: { k: { S: 'v' } } })).toBe(3 + 1 + 1 + 1);
  });

  it('sizes plain values the way they are stored once marshalled', () => {
    expect(plainValueSize('abc')).toBe(attributeValueSize({ S: 'abc' }));
    expect(plainValueSize(12345)).toBe(attributeValueSize({ N: '12345' }));
    expect(plainValueSize({ k: 'v' })).toBe(attributeValueSize({ M: { k: { S: 'v' } } }));
    expect(plainValueSize(['ab', 1])).toBe(attributeValueSize({ L: [{ S: 'ab' }, { N: '1' }] }));
  });
});

describe('capacity units', () => {
  const put = (bytes: number) => ({ TableName: 't', Item: { pk: { S: 'k' }, v: { S: 'x'.repeat(bytes - 5) } } }); // 2 + 1 + 1 + (bytes - 5) + ... ≈ bytes
  it('writes: 1 WRU per started KB, at least 1; 2x per item in a transaction', () => {
    expect(computeDynamoUnits('PutItem', put(500), undefined, false)).toEqual([1, 0]);
    expect(computeDynamoUnits('PutItem', put(1500), undefined, false)).toEqual([2, 0]);
    const tx = {
      TransactItems: [
        { Put: put(1500) },
        { Put: put(300) },
        { ConditionCheck: { TableName: 't', Key: { pk: { S: 'k' } } } },
      ],
    };
    expect(computeDynamoUnits('TransactWriteItems', tx, undefined, false)).toEqual([2 * 2 + 2 * 1 + 2 * 1, 0]);
  });

  it('reads: 1 RRU per started 4 KB consistent, half eventually consistent, at least one unit', () => {
    const item = { pk: 'k', v: 'x'.repeat(8200) };
    expect(computeDynamoUnits('GetItem', { ConsistentRead: true }, { Item: item }, true)).toEqual([0, 3]);
    expect(computeDynamoUnits('GetItem', {}, { Item: item }, true)).toEqual([0, 1.5]);
    expect(computeDynamoUnits('GetItem', { ConsistentRead: true }, {}, true)).toEqual([0, 1]); // not found
    expect(
      computeDynamoUnits('Query', { IndexName: 'gsi', ConsistentRead: true }, { Items: [item, item] }, true),
    ).toEqual([0, 2.5]);
  });
});

describe('CostMeter', () => {
  it('sums requests, units and dollars at the list prices', () => {
    const meter = new CostMeter();
    const seen: string[] = [];
    meter.onCall((call) => seen.push(call.operation));
    meter.record({
      service: 'DynamoDB',
      operation: 'PutItem',
      wru: 2,
      rru: 0,
      sqsBilled: 0,
      fifo: false,
      dollars: 2 * PRICES.wru,
    });
    meter.record({
      service: 'SQS',
      operation: 'SendMessageBatch',
      wru: 0,
      rru: 0,
      sqsBilled: 1,
      fifo: true,
      dollars: PRICES.sqsFifo,
    });
    const totals = meter.snapshot();
    expect(totals).toMatchObject({ dynamodbRequests: 1, wru: 2, rru: 0, sqsBilledFifo: 1, sqsBilledStandard: 0 });
    expect(totals.requests).toEqual({ 'DynamoDB.PutItem': 1, 'SQS.SendMessageBatch': 1 });
    expect(totals.dollars).toBeCloseTo(2 * 0.625e-6 + 0.5e-6, 12);
    expect(seen).toEqual(['PutItem', 'SendMessageBatch']);
    meter.reset();
    expect(meter.snapshot().wru).toBe(0);
  });

  it('prices the same calls on provisioned capacity at 70% utilization: units at the WCU/RCU-hour price / 3,600 / 0.7, SQS as on-demand', () => {
    // us-east-1, 2024-11-01: $0.00065 per WCU-hour, $0.00013 per RCU-hour.
    expect(PROVISIONED_PRICES.wru * 1e6).toBeCloseTo(0.2579, 4);
    expect(PROVISIONED_PRICES.rru * 1e6).toBeCloseTo(0.0516, 4);
    const meter = new CostMeter();
    const seen: number[] = [];
    meter.onCall((call) => seen.push(call.dollarsProvisioned ?? NaN));
    meter.record({
      service: 'DynamoDB',
      operation: 'TransactWriteItems',
      wru: 4,
      rru: 0,
      sqsBilled: 0,
      fifo: false,
      dollars: 4 * PRICES.wru,
    });
    meter.record({
      service: 'DynamoDB',
      operation: 'GetItem',
      wru: 0,
      rru: 1,
      sqsBilled: 0,
      fifo: false,
      dollars: PRICES.rru,
    });
    meter.record({
      service: 'SQS',
      operation: 'SendMessageBatch',
      wru: 0,
      rru: 0,
      sqsBilled: 1,
      fifo: false,
      dollars: PRICES.sqsStandard,
    });
    const expected = (4 * 0.00065 + 0.00013) / 3600 / 0.7 + 0.4e-6;
    expect(meter.snapshot().dollarsProvisioned).toBeCloseTo(expected, 12);
    expect(seen.reduce((a, b) => a + b, 0)).toBeCloseTo(expected, 12);
    // Provisioned at 70% is cheaper per unit than on-demand: 0.258 vs 0.625 $/M writes.
    expect(meter.snapshot().dollarsProvisioned).toBeLessThan(meter.snapshot().dollars);
  });
});
