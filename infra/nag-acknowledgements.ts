/**
 * The cdk-nag AwsSolutions findings this stack accepts, each on the narrowest construct (by path
 * under the stack), each with its reason. infra/README.md lists them; test/infra/cdk-synth.test.ts
 * fails on any other finding, and on an acknowledgement that no longer matches a construct.
 */
import { Validations, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface NagAcknowledgement {
  /** The construct's path under the stack, e.g. 'Services/ApiTask'. */
  path: string;
  /** The finding, as cdk-nag names it (`AwsSolutions-IAM5[Resource::...]` for one finding of a rule). */
  rule: string;
  reason: string;
}

const ENV_VARS =
  'The environment holds no secret: SERVICE_MODE, NODE_ENV, region, resource prefix, ports, the Redis endpoint. ' +
  'The token settings come from SSM parameters through `secrets`.';
const ECR_TOKEN =
  'ecr:GetAuthorizationToken has no resource-level permissions (AWS requires "*"); the image pull actions are ' +
  'limited to the one repository.';
const INDEXES =
  "Query on this table's own GSIs (table/<name>/index/*): the service queries several indexes of the table, " +
  'none of another table.';

export const NAG_ACKNOWLEDGEMENTS: readonly NagAcknowledgement[] = [
  { path: 'Services/ApiTask', rule: 'AwsSolutions-ECS2', reason: ENV_VARS },
  { path: 'Services/WorkerTask', rule: 'AwsSolutions-ECS2', reason: ENV_VARS },
  { path: 'Services/ApiTask/ExecutionRole', rule: 'AwsSolutions-IAM5[Resource::*]', reason: ECR_TOKEN },
  { path: 'Services/WorkerTask/ExecutionRole', rule: 'AwsSolutions-IAM5[Resource::*]', reason: ECR_TOKEN },
  {
    path: 'Services/ApiTask/TaskRole',
    rule: 'AwsSolutions-IAM5[Resource::<DataTicketOrders1CA64656.Arn>/index/*]',
    reason: INDEXES,
  },
  {
    path: 'Services/WorkerTask/TaskRole',
    rule: 'AwsSolutions-IAM5[Resource::<DataTicketOrders1CA64656.Arn>/index/*]',
    reason: INDEXES,
  },
  {
    path: 'Services/AlbAccessLogs',
    rule: 'AwsSolutions-S1',
    reason:
      'This bucket holds the ALB access logs; logging its own access to another bucket would only move the finding.',
  },
  {
    path: 'Services/Api/LB/SecurityGroup',
    rule: 'AwsSolutions-EC23',
    reason:
      'The public API: the load balancer takes HTTP(S) from anywhere on its listener ports only; tasks take traffic from it alone.',
  },
  {
    path: 'Vpc/Sqs/SecurityGroup',
    rule: 'AwsSolutions-EC23',
    reason: "The SQS endpoint takes HTTPS from the VPC's own CIDR only (a token, which the rule cannot read).",
  },
  {
    path: 'Redis',
    rule: 'AwsSolutions-AEC6',
    reason:
      'No AUTH token: the service takes one REDIS_URL and a token would have to be assembled into it at start. Redis is ' +
      'reachable only from the API and worker security groups, in private subnets, over TLS (transit encryption required).',
  },
];

/** Records every acknowledgement on its construct; throws if a path no longer names one. */
export function acknowledgeFindings(stack: Stack): void {
  for (const ack of NAG_ACKNOWLEDGEMENTS) {
    const construct = findByPath(stack, ack.path);
    if (!construct) throw new Error(`cdk-nag acknowledgement: no construct at ${ack.path}`);
    Validations.of(construct).acknowledge({ id: `AwsSolutions::${ack.rule}`, reason: ack.reason });
  }
}

function findByPath(root: IConstruct, path: string): IConstruct | undefined {
  let node: IConstruct | undefined = root;
  for (const id of path.split('/')) node = node?.node.tryFindChild(id);
  return node;
}
