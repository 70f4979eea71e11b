/**
 * EventTicket on AWS, one stack: network, KMS key, tables and queues (./data.ts, from
 * init-scripts/resources.json), Redis (ElastiCache), the API and the workers on ECS Fargate
 * (./services.ts), alarms (./alarms.ts). What is chosen here and why: infra/README.md.
 *
 * Synthesizes with no AWS account and no network: nothing is looked up (the AZs come from
 * Fn::GetAZs, the image from CloudFormation parameters), so the template is the same everywhere.
 */
import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { Alarms } from './alarms';
import { Data } from './data';
import { acknowledgeFindings } from './nag-acknowledgements';
import { Services } from './services';

/** What the stack is built from: CDK context values (`-c name=value`), all optional. */
export interface EventTicketSettings {
  /** RESOURCE_PREFIX of the services and of every table and queue name (default ''). */
  resourcePrefix: string;
  /** An ACM certificate ARN for HTTPS on the ALB; without one the ALB listens on HTTP. */
  certificateArn?: string;
  /** An e-mail address subscribed to the alarm topic. */
  alarmEmail?: string;
  /** NAT gateways (default 2: one per AZ, so an AZ outage leaves the other's egress). */
  natGateways: number;
  /** ElastiCache node type (default cache.t4g.medium). */
  redisNodeType: string;
  /** The CloudWatch agent image of the API's metrics sidecar. */
  cloudWatchAgentImage: string;
  apiTasks: { min: number; max: number };
  workerTasks: { min: number; max: number };
}

export const DEFAULT_SETTINGS: EventTicketSettings = {
  resourcePrefix: '',
  natGateways: 2,
  redisNodeType: 'cache.t4g.medium',
  cloudWatchAgentImage: 'public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest',
  apiTasks: { min: 2, max: 20 },
  workerTasks: { min: 2, max: 40 },
};

/** Redis on a port other than 6379 (AwsSolutions-AEC5): a scan for the default port finds nothing. */
const REDIS_PORT = 6380;

export interface EventTicketStackProps extends StackProps {
  settings: EventTicketSettings;
}

export class EventTicketStack extends Stack {
  readonly data: Data;
  readonly services: Services;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: EventTicketStackProps) {
    super(scope, id, props);
    const { settings } = props;

    // ---- parameters: given at deploy time, never in the template ---------------------------------
    const imageRepository = new CfnParameter(this, 'ImageRepositoryName', {
      type: 'String',
      description: 'The ECR repository holding the service image (built from the Dockerfile)',
      default: 'eventticket',
    });
    const imageTag = new CfnParameter(this, 'ImageTag', {
      type: 'String',
      description: 'The image tag to run (an immutable tag: the git commit, say)',
      allowedPattern: '^[A-Za-z0-9_.-]{1,128}$',
    });
    const issuer = new CfnParameter(this, 'AuthIssuer', {
      type: 'String',
      description: "AUTH_ISSUER: the token issuer (the 'iss' claim the API accepts)",
      minLength: 1,
    });
    const audience = new CfnParameter(this, 'AuthAudience', {
      type: 'String',
      description: "AUTH_AUDIENCE: the 'aud' claim the API accepts",
      minLength: 1,
    });
    const jwksUrl = new CfnParameter(this, 'AuthJwksUrl', {
      type: 'String',
      description: "AUTH_JWKS_URL: the issuer's public keys (https)",
      allowedPattern: '^https://.+',
    });
    const rolesClaim = new CfnParameter(this, 'AuthRolesClaim', {
      type: 'String',
      description: "AUTH_ROLES_CLAIM: the claim that lists the caller's roles (e.g. cognito:groups)",
      default: 'roles',
      allowedPattern: '^[A-Za-z0-9_:/.-]{1,100}$', // src/config/auth-config.ts
    });
    const authParameter = (id: string, value: CfnParameter, what: string) =>
      new ssm.StringParameter(this, id, { stringValue: value.valueAsString, description: what });
    const auth = {
      issuer: authParameter('AuthIssuerParameter', issuer, 'AUTH_ISSUER of the EventTicket API'),
      audience: authParameter('AuthAudienceParameter', audience, 'AUTH_AUDIENCE of the EventTicket API'),
      jwksUrl: authParameter('AuthJwksUrlParameter', jwksUrl, 'AUTH_JWKS_URL of the EventTicket API'),
      rolesClaim: authParameter('AuthRolesClaimParameter', rolesClaim, 'AUTH_ROLES_CLAIM of the EventTicket API'),
    };

    // ---- encryption key: the tables, Redis at rest, the alarm topic -----------------------------
    const key = new kms.Key(this, 'DataKey', {
      description: 'EventTicket: DynamoDB tables, ElastiCache at rest, the alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarms to the encrypted topic.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'], // in a key policy, '*' is this key
      }),
    );

    this.data = new Data(this, 'Data', { resourcePrefix: settings.resourcePrefix, tableKey: key });

    // ---- network --------------------------------------------------------------------------------
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: settings.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      // DynamoDB traffic stays on AWS's network, and off the NAT gateways' per-GB bill.
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    });
    vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_MONTH }),
      ),
    });
    // SQS carries several messages per order: through an endpoint, not the NAT gateways.
    vpc.addInterfaceEndpoint('Sqs', { service: ec2.InterfaceVpcEndpointAwsService.SQS, privateDnsEnabled: true });

    // ---- Redis ----------------------------------------------------------------------------------
    const redisSecurityGroup = new ec2.SecurityGroup(this, 'RedisSecurityGroup', {
      vpc,
      description: 'Redis: reachable from the API and worker tasks only',
      allowAllOutbound: false,
    });
    const redisSubnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'EventTicket Redis: private subnets',
      subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    });
    const redis = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: 'EventTicket cache, waiting room, rate limits, sold-out flags',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: settings.redisNodeType,
      // One shard (cluster mode off): the service's single ioredis client and its multi-key scripts.
      numNodeGroups: 1,
      replicasPerNodeGroup: 1,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      atRestEncryptionEnabled: true,
      kmsKeyId: key.keyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      port: REDIS_PORT,
      cacheSubnetGroupName: redisSubnets.ref,
      securityGroupIds: [redisSecurityGroup.securityGroupId],
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
    });
    const redisUrl = `rediss://${redis.attrPrimaryEndPointAddress}:${redis.attrPrimaryEndPointPort}`;

    // ---- services and alarms ------------------------------------------------------------------------
    const repository = ecr.Repository.fromRepositoryName(this, 'ImageRepository', imageRepository.valueAsString);
    this.services = new Services(this, 'Services', {
      vpc,
      data: this.data,
      tableKey: key,
      image: ecs.ContainerImage.fromEcrRepository(repository, imageTag.valueAsString),
      resourcePrefix: settings.resourcePrefix,
      redisUrl,
      auth,
      certificate: settings.certificateArn
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', settings.certificateArn)
        : undefined,
      cloudWatchAgentImage: settings.cloudWatchAgentImage,
      apiTasks: settings.apiTasks,
      workerTasks: settings.workerTasks,
    });
    for (const service of [this.services.api.service, this.services.workers]) {
      redisSecurityGroup.connections.allowFrom(service, ec2.Port.tcp(REDIS_PORT), 'Redis from the service tasks');
    }
    this.alarms = new Alarms(this, 'Alarms', {
      data: this.data,
      services: this.services,
      topicKey: key,
      email: settings.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: `${settings.certificateArn ? 'https' : 'http'}://${this.services.api.loadBalancer.loadBalancerDnsName}`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'AuthParameterNames', {
      value: Object.values(auth)
        .map((p) => p.parameterName)
        .join(','),
    });
    new CfnOutput(this, 'RedisEndpoint', { value: redisUrl });
    acknowledgeFindings(this);
  }
}
