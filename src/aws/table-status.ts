/**
 * A DynamoDB table's status (DescribeTable), for the readiness probe (src/api/health.ts): the one
 * place outside the table owners that asks DynamoDB about a table, so no layer above builds the command.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The table's TableStatus (`ACTIVE`, `CREATING`, `UPDATING`, ...), or undefined when DynamoDB
 * answers without one. `abortSignal` ends the request (the probe's deadline).
 * @throws the SDK's error when the table does not exist or DynamoDB cannot be reached.
 */
export async function tableStatus(
  ddb: DynamoDBClient,
  tableName: string,
  abortSignal?: AbortSignal,
): Promise<string | undefined> {
  const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal });
  return Table?.TableStatus;
}
