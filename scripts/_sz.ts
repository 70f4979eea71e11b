import { DynamoDBClient, CreateTableCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { itemSize } from '../src/observability/cost-meter';
import { spawnSync } from 'node:child_process';
const ep = process.argv[2];
const c = new DynamoDBClient({ endpoint: ep, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
async function main() {
  const T = 'sz' + Date.now();
  await c.send(new CreateTableCommand({ TableName: T, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
  for (const n of [900, 950, 980, 1000, 1010, 1015, 1020, 1024]) {
    const base = { pk: { S: 'a' + n }, m: { M: { x: { S: 'abc' }, n: { N: '12345' } } }, big: { S: '' } } as any;
    const pad = n - itemSize(base);
    base.big.S = 'x'.repeat(pad);
    const p = await c.send(new PutItemCommand({ TableName: T, Item: base, ReturnConsumedCapacity: 'TOTAL' }));
    const u = await c.send(new UpdateItemCommand({ TableName: T, Key: { pk: base.pk }, UpdateExpression: 'SET #b = :b', ExpressionAttributeNames: { '#b': 'big' }, ExpressionAttributeValues: { ':b': { S: base.big.S } }, ReturnConsumedCapacity: 'TOTAL' }));
    console.log(n, itemSize(base), 'put', p.ConsumedCapacity?.CapacityUnits, 'update', u.ConsumedCapacity?.CapacityUnits);
  }
}
main().catch((e) => console.error(e));
