/**
 * The cost meter's arithmetic by AWS's rules (item sizes, 1 KB writes, 4 KB reads, 2x in
 * transactions, 64 KB SQS chunks), and which figure a call is metered at: the engine's report or
 * the sizes. Pure: no AWS. The meter on real engines is covered by
 * test/observability/metrics.test.ts.
 */
import {
  attributeValueSize,
  computeDynamoUnits,
  CostMeter,
  itemSize,
  meteredUnits,
  plainValueSize,
  PRICES,
  PROVISIONED_PRICES,
  sqsBilledRequests,
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

describe("which figure a call is metered at: the engine's report, or the sizes", () => {
  const put = (bytes: number) => ({ TableName: 't', Item: { pk: { S: 'k' }, v: { S: 'x'.repeat(bytes - 5) } } });
  const report = (units: number) => ({ ConsumedCapacity: { TableName: 't', CapacityUnits: units } });
  const tx = {
    TransactItems: [
      { Put: put(1500) },
      { Put: put(300) },
      { ConditionCheck: { TableName: 't', Key: { pk: { S: 'k' } } } },
    ],
  };
  const txBySizes = 2 * 2 + 2 * 1 + 2 * 1;

  it('a transaction: 2x by the sizes when the engine reports less (1x) or nothing, the report when it is more', () => {
    const reported = (units: number) => ({ ConsumedCapacity: [{ TableName: 't', CapacityUnits: units }] });
    expect(meteredUnits('TransactWriteItems', tx, reported(txBySizes / 2), false)).toBe(txBySizes);
    expect(meteredUnits('TransactWriteItems', tx, { ConsumedCapacity: [] }, false)).toBe(txBySizes); // moto: none
    expect(meteredUnits('TransactWriteItems', tx, reported(txBySizes + 4), false)).toBe(txBySizes + 4); // + GSI writes
    const item = { pk: 'k', v: 'x'.repeat(8200) }; // 3 units consistent, 2x in a transaction
    const gets = { Responses: [{ Item: item }], ConsumedCapacity: [{ TableName: 't', CapacityUnits: 3 }] };
    expect(meteredUnits('TransactGetItems', {}, gets, true)).toBe(6);
  });

  it('a single-item or batch call with a report: the report, whatever the sizes say', () => {
    // Above the sizes: the GSI writes, the old item's size, which the request does not show.
    expect(meteredUnits('PutItem', put(1500), report(5), false)).toBe(5);
    // Below them: taken as it is (moto's flat 1 per PutItem); AWS never reports below them.
    expect(meteredUnits('PutItem', put(1500), report(1), false)).toBe(1);
    expect(meteredUnits('GetItem', { ConsistentRead: true }, { Item: { pk: 'k' }, ...report(3) }, true)).toBe(3);
    expect(meteredUnits('GetItem', {}, { Item: { pk: 'k' }, ...report(1.5) }, true)).toBe(1.5);
    const batch = {
      ConsumedCapacity: [
        { TableName: 'a', CapacityUnits: 2 },
        { TableName: 'b', CapacityUnits: 1.5 },
      ],
    };
    expect(meteredUnits('BatchGetItem', {}, batch, true)).toBe(3.5);
  });

  it('no report (a billed error, an engine that gives none): the sizes', () => {
    expect(meteredUnits('PutItem', put(1500), undefined, false)).toBe(2);
    expect(meteredUnits('PutItem', put(1500), {}, false)).toBe(2);
    const item = { pk: 'k', v: 'x'.repeat(8200) };
    expect(meteredUnits('GetItem', { ConsistentRead: true }, { Item: item }, true)).toBe(3);
    expect(meteredUnits('Query', {}, { Items: [item, item], ConsumedCapacity: [] }, true)).toBe(2.5);
  });

  it('a report AWS could not give (zero; a fraction of a unit for a write or a strongly consistent read): the sizes', () => {
    const update = {
      TableName: 't',
      Key: { pk: { S: 'k' } },
      UpdateExpression: 'SET v = :v',
      ExpressionAttributeValues: { ':v': { S: 'x'.repeat(1500) } },
    };
    expect(meteredUnits('UpdateItem', update, report(0.5), false)).toBe(2); // moto's 0.5 per UpdateItem
    expect(meteredUnits('PutItem', put(300), report(0), false)).toBe(1);
    const item = { pk: 'k', v: 'x'.repeat(8200) };
    expect(meteredUnits('GetItem', { ConsistentRead: true }, { Item: item, ...report(0.5) }, true)).toBe(3);
    // Eventually consistent: half units are AWS's own, so moto's 0.5 is taken.
    expect(meteredUnits('GetItem', {}, { Item: item, ...report(0.5) }, true)).toBe(0.5);
  });

  it('SQS: one request per started 64 KB of UTF-8 payload, at least one', () => {
    const batch = (...bodies: string[]) => ({ Entries: bodies.map((MessageBody, i) => ({ Id: `${i}`, MessageBody })) });
    expect(sqsBilledRequests('SendMessageBatch', batch(), undefined)).toBe(1);
    expect(sqsBilledRequests('SendMessageBatch', batch('a'.repeat(40000), 'b'.repeat(30000)), undefined)).toBe(2);
    expect(sqsBilledRequests('SendMessage', { MessageBody: 'é'.repeat(30000) }, undefined)).toBe(1); // 60,000 bytes
    expect(sqsBilledRequests('SendMessage', { MessageBody: '€'.repeat(22000) }, undefined)).toBe(2); // 66,000 bytes
    const attributes = { MessageAttributes: { k: { DataType: 'String', StringValue: 'v'.repeat(65536) } } };
    expect(sqsBilledRequests('ReceiveMessage', {}, { Messages: [{ Body: 'x', ...attributes }] })).toBe(2);
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
