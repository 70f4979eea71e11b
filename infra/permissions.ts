/**
 * Turns the access model (./access.ts) into IAM statements on one task role: exact actions, exact
 * table, stream and queue ARNs, and `table/<name>/index/*` for the GSIs (the only wildcard).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Stack } from 'aws-cdk-lib';
import type { Data } from './data';
import { ACCESS, STREAM_ACTIONS, type ServiceMode } from './access';

/** Adds the statements of `mode` to `role`. */
export function grantMode(role: iam.IRole, mode: ServiceMode, data: Data, tableKey: kms.IKey): void {
  const access = ACCESS[mode];
  for (const [key, actions] of Object.entries(access.tables)) {
    const table = data.tables[key as keyof typeof data.tables];
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn] }));
  }
  if (access.indexes.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: access.indexes.map((key) => `${data.tables[key].tableArn}/index/*`),
      }),
    );
  }
  if (access.streams.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...STREAM_ACTIONS],
        resources: access.streams.map((key) => {
          const arn = data.tables[key].tableStreamArn;
          if (!arn) throw new Error(`infra/access.ts: ${key} has no stream (resources.json StreamSpecification)`);
          return arn;
        }),
      }),
    );
  }
  for (const [key, actions] of Object.entries(access.queues)) {
    const queue = data.queues[key as keyof typeof data.queues];
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [queue.queueArn] }));
  }
  // The tables' key, only through DynamoDB (kms:ViaService): DynamoDB uses it on the caller's behalf.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: [tableKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(role).region}.amazonaws.com` } },
    }),
  );
}
