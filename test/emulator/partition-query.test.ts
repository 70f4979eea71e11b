/**
 * Patch 7 of scripts/emulator.py (docs/emulator.md): a Query on a table's own hash key reads only
 * that partition, where moto 5.2.1 lists and sorts the whole table on every Query.
 *
 * Starts its own two emulators from this checkout, both serving DynamoDB themselves (no upstream):
 * the patched one and plain moto (`--unpatched`), on free ports, and stops them at the end. The
 * shared emulator on 4566 is neither used nor touched.
 *
 * 1. Same answers: every Query below (sort-key conditions, both directions, Limit with pagination,
 *    filters, projections, COUNT, consumed capacity, a legacy KeyConditions query, an index query,
 *    a hash-only table) gets the same response, page by page, from both.
 * 2. Work does not grow with the table: the patched emulator counts the items each Query hands to
 *    moto's loop (GET /_emulator/stats, queryItemsExamined). A partition Query examines exactly its
 *    partition's items at 50 and at 3,000 items in the table; an index Query (moto's own path)
 *    examines the whole table, which shows the counter counts what the loop looks at.
 */
import { spawnSync } from 'node:child_process';
import {
  AttributeValue,
  BatchWriteItemCommand,
  BatchWriteItemCommandOutput,
  CreateTableCommand,
  CreateTableCommandInput,
  DynamoDBClient,
  QueryCommand,
  QueryCommandInput,
  QueryCommandOutput,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { freePort, startEmulator, type LocalAws } from '../../scripts/local-aws';

const motoInstalled = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
// Skipped only where moto is not installed: this file starts its own (patched and plain) moto emulators.
const describeIfMoto = motoInstalled ? describe : describe.skip;

jest.setTimeout(120_000);

const clientFor = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });

interface QueryStats {
  patched: boolean;
  partitionQueries: number;
  indexQueries: number;
  queryItemsExamined: number;
}

async function stats(endpoint: string): Promise<QueryStats> {
  const res = await fetch(`${endpoint}/_emulator/stats`);
  expect(res.status).toBe(200);
  return (await res.json()) as QueryStats;
}

/** Writes `items` to `table`, 25 per BatchWriteItem, looping on UnprocessedItems. */
async function putAll(
  client: DynamoDBClient,
  table: string,
  items: Array<Record<string, AttributeValue>>,
): Promise<void> {
  for (let start = 0; start < items.length; start += 25) {
    let pending: Record<string, WriteRequest[]> | undefined = {
      [table]: items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })),
    };
    while (pending && Object.keys(pending).length > 0) {
      const out: BatchWriteItemCommandOutput = await client.send(new BatchWriteItemCommand({ RequestItems: pending }));
      pending = out.UnprocessedItems;
    }
  }
}

/** Every page of a Query (following LastEvaluatedKey), without the SDK's $metadata. */
async function allPages(
  client: DynamoDBClient,
  input: QueryCommandInput,
): Promise<Array<Omit<QueryCommandOutput, '$metadata'>>> {
  const pages: Array<Omit<QueryCommandOutput, '$metadata'>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const { $metadata: _metadata, ...page } = await client.send(
      new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    pages.push(page);
    startKey = page.LastEvaluatedKey;
  } while (startKey && pages.length < 100);
  return pages;
}

const EVENTS = 'parity-events';
const SINGLE = 'parity-single';

const eventsTable: CreateTableCommandInput = {
  TableName: EVENTS,
  KeySchema: [
    { AttributeName: 'aggregateId', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  AttributeDefinitions: [
    { AttributeName: 'aggregateId', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'status', AttributeType: 'S' },
    { AttributeName: 'version', AttributeType: 'N' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'ByStatus',
      KeySchema: [
        { AttributeName: 'status', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};

const singleTable: CreateTableCommandInput = {
  TableName: SINGLE,
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
};

/** 8 aggregates × 12 rows; sort keys v00..v11, a version number, a status, a payload. */
function eventRows(): Array<Record<string, AttributeValue>> {
  const rows: Array<Record<string, AttributeValue>> = [];
  for (let a = 0; a < 8; a++) {
    for (let v = 0; v < 12; v++) {
      rows.push({
        aggregateId: { S: `agg-${a}` },
        sk: { S: `v${String(v).padStart(2, '0')}` },
        version: { N: String(v) },
        status: { S: v % 3 === 0 ? 'open' : 'done' },
        payload: { S: `row ${a}/${v}` },
      });
    }
  }
  return rows;
}

const id = (value: string): Record<string, AttributeValue> => ({ ':id': { S: value } });

/** The Queries both emulators must answer alike (each followed over all its pages). */
const queries: Array<[string, QueryCommandInput]> = [
  [
    'whole partition',
    { TableName: EVENTS, KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: id('agg-3') },
  ],
  [
    'latest row (the saga load: descending, Limit 1)',
    {
      TableName: EVENTS,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: id('agg-3'),
      ScanIndexForward: false,
      Limit: 1,
    },
  ],
  [
    'Limit 5 ascending, paginated',
    {
      TableName: EVENTS,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: id('agg-5'),
      Limit: 5,
    },
  ],
  [
    'Limit 5 descending, paginated',
    {
      TableName: EVENTS,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: id('agg-5'),
      Limit: 5,
      ScanIndexForward: false,
    },
  ],
  [
    'begins_with',
    {
      TableName: EVENTS,
      KeyConditionExpression: 'aggregateId = :id AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ...id('agg-2'), ':p': { S: 'v0' } },
    },
  ],
  [
    'BETWEEN, descending, Limit 2 paginated',
    {
      TableName: EVENTS,
      KeyConditionExpression: 'aggregateId = :id AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ...id('agg-2'), ':a': { S: 'v03' }, ':b': { S: 'v09' } },
      ScanIndexForward: false,
      Limit: 2,
    },
  ],
  ...(['<', '<=', '>', '>=', '='] as const).flatMap((op): Array<[string, QueryCommandInput]> =>
    [true, false].map((forward): [string, QueryCommandInput] => [
      `sk ${op} v06, ${forward ? 'ascending' : 'descending'}, Limit 3 paginated`,
      {
        TableName: EVENTS,
        KeyConditionExpression: `aggregateId = :id AND sk ${op} :s`,
        ExpressionAttributeValues: { ...id('agg-6'), ':s': { S: 'v06' } },
        ScanIndexForward: forward,
        Limit: 3,
      },
    ]),
  ),
  [
    'filter + projection + consumed capacity, Limit 4 paginated',
    {
      TableName: EVENTS,
      KeyConditionExpression: 'aggregateId = :id AND sk > :s',
      FilterExpression: '#st = :open',
      ProjectionExpression: 'sk, version, #st',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: { ...id('agg-1'), ':s': { S: 'v01' }, ':open': { S: 'open' } },
      ReturnConsumedCapacity: 'INDEXES',
      Limit: 4,
    },
  ],
  [
    'Select COUNT',
    {
      TableName: EVENTS,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: id('agg-4'),
      Select: 'COUNT',
    },
  ],
  [
    'a missing partition',
    { TableName: EVENTS, KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: id('agg-none') },
  ],
  [
    'an ExclusiveStartKey from the middle, descending',
    {
      TableName: EVENTS,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: id('agg-7'),
      ExclusiveStartKey: { aggregateId: { S: 'agg-7' }, sk: { S: 'v04' } },
      ScanIndexForward: false,
    },
  ],
  [
    'legacy KeyConditions',
    {
      TableName: EVENTS,
      KeyConditions: {
        aggregateId: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'agg-0' }] },
        sk: { ComparisonOperator: 'GE', AttributeValueList: [{ S: 'v08' }] },
      },
    },
  ],
  [
    'an index Query (moto path), Limit 5 paginated',
    {
      TableName: EVENTS,
      IndexName: 'ByStatus',
      KeyConditionExpression: '#st = :open AND version >= :v',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: { ':open': { S: 'open' }, ':v': { N: '3' } },
      Limit: 5,
    },
  ],
  [
    'a hash-only table',
    { TableName: SINGLE, KeyConditionExpression: 'pk = :id', ExpressionAttributeValues: id('k-7') },
  ],
  [
    'a hash-only table, missing key',
    { TableName: SINGLE, KeyConditionExpression: 'pk = :id', ExpressionAttributeValues: id('k-none') },
  ],
];

describeIfMoto('emulator patch 7: a Query on the table hash key reads only its partition', () => {
  let patched: LocalAws | undefined;
  let plain: LocalAws | undefined;
  let patchedDb: DynamoDBClient;
  let plainDb: DynamoDBClient;

  beforeAll(async () => {
    [patched, plain] = await Promise.all([
      freePort().then((port) => startEmulator(port)),
      freePort().then((port) => startEmulator(port, 20000, { unpatched: true })),
    ]);
    patchedDb = clientFor(patched.endpoint);
    plainDb = clientFor(plain.endpoint);
    for (const client of [patchedDb, plainDb]) {
      await client.send(new CreateTableCommand(eventsTable));
      await client.send(new CreateTableCommand(singleTable));
      await putAll(client, EVENTS, eventRows());
      await putAll(
        client,
        SINGLE,
        Array.from({ length: 20 }, (_, k) => ({ pk: { S: `k-${k}` }, n: { N: String(k) } })),
      );
    }
  });

  afterAll(async () => {
    patchedDb?.destroy();
    plainDb?.destroy();
    await Promise.all([patched?.stop(), plain?.stop()]);
  });

  test('the patched and the plain emulator give the same answers, page by page', async () => {
    expect((await stats(patched!.endpoint)).patched).toBe(true);
    expect((await stats(plain!.endpoint)).patched).toBe(false);
    const differences: string[] = [];
    let paginated = 0;
    let rows = 0;
    for (const [name, input] of queries) {
      const [mine, theirs] = await Promise.all([allPages(patchedDb, input), allPages(plainDb, input)]);
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
        differences.push(`${name}:\n  patched ${JSON.stringify(mine)}\n  plain   ${JSON.stringify(theirs)}`);
      }
      if (mine.length > 1) paginated++;
      rows += mine.reduce((sum, page) => sum + (page.Count ?? 0), 0);
    }
    expect(differences).toEqual([]);
    // The set exercised pagination and returned rows (not only empty answers).
    expect(paginated).toBeGreaterThanOrEqual(10);
    expect(rows).toBeGreaterThan(50);
  });

  test("a partition Query's work does not grow with the table; an index Query's does", async () => {
    const endpoint = patched!.endpoint;
    const table = 'growth-events';
    await patchedDb.send(new CreateTableCommand({ ...eventsTable, TableName: table }));
    const target = Array.from({ length: 5 }, (_, v) => ({
      aggregateId: { S: 'agg-target' },
      sk: { S: `v${String(v).padStart(2, '0')}` },
      version: { N: String(v) },
      status: { S: 'open' },
    }));
    const others = (from: number, count: number): Array<Record<string, AttributeValue>> =>
      Array.from({ length: count }, (_, k) => ({
        aggregateId: { S: `agg-${from + k}` },
        sk: { S: 'v00' },
        version: { N: '0' },
        status: { S: 'done' },
      }));
    const latest: QueryCommandInput = {
      TableName: table,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: id('agg-target'),
      ScanIndexForward: false,
      Limit: 1,
    };
    const byIndex: QueryCommandInput = {
      TableName: table,
      IndexName: 'ByStatus',
      KeyConditionExpression: '#st = :open',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: { ':open': { S: 'open' } },
      Limit: 1,
    };
    /** Items examined by one Query, from the counter's change around it. */
    const examined = async (input: QueryCommandInput): Promise<{ examined: number; latest: string | undefined }> => {
      const before = await stats(endpoint);
      const out = await patchedDb.send(new QueryCommand(input));
      const after = await stats(endpoint);
      return { examined: after.queryItemsExamined - before.queryItemsExamined, latest: out.Items?.[0]?.sk?.S };
    };

    const smallSize = 50;
    const largeSize = 3000;
    await putAll(patchedDb, table, [...target, ...others(0, smallSize - target.length)]);
    const small = { partition: await examined(latest), index: await examined(byIndex) };
    await putAll(patchedDb, table, others(smallSize, largeSize - smallSize));
    const large = { partition: await examined(latest), index: await examined(byIndex) };

    expect({ small: small.partition, large: large.partition }).toEqual({
      small: { examined: target.length, latest: 'v04' },
      large: { examined: target.length, latest: 'v04' },
    });
    // moto's own path (index Queries) lists the whole table: 50 items, then 3,000.
    expect({ small: small.index.examined, large: large.index.examined }).toEqual({
      small: smallSize,
      large: largeSize,
    });
  });
});
