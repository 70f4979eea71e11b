/**
 * Upgrades of the TicketOrders items that a new index needs (run by `npm run init`, src/infra/init.ts,
 * when it adds a listing index): the store owns the table, so it writes them.
 */
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../aws/dynamo-errors';
import { createdKeyOf } from './saga-store';

/** Writes `createdKey` on every order that lacks it (conditional, so running it twice is harmless). */
export async function backfillCreatedKeys(doc: DynamoDBDocumentClient, ordersTable: string): Promise<number> {
  let written = 0;
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: ordersTable,
        ProjectionExpression: 'orderId, createdAt',
        FilterExpression: 'attribute_not_exists(createdKey)',
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const orderId = String(item.orderId);
      const createdAt = String(item.createdAt);
      try {
        await doc.send(
          new UpdateCommand({
            TableName: ordersTable,
            Key: { orderId },
            UpdateExpression: 'SET createdKey = :k',
            ConditionExpression: 'attribute_exists(orderId) AND attribute_not_exists(createdKey)',
            ExpressionAttributeValues: { ':k': createdKeyOf({ orderId, createdAt }) },
          }),
        );
        written++;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return written;
}
