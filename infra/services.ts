/**
 * The service on ECS Fargate, one image in two modes (SERVICE_MODE):
 *  - api: behind a public ALB (health check GET /actuator/health), scaling on CPU, with a CloudWatch
 *    agent sidecar that scrapes its Prometheus /metrics and publishes the stuck-saga gauge
 *    (eventticket_sagas_stuck) as a CloudWatch metric through the embedded metric format (EMF);
 *  - worker: the queue consumers and the sweeper, in private subnets, scaling on the work queues'
 *    depth (ApproximateNumberOfMessagesVisible) and age (ApproximateAgeOfOldestMessage).
 * Each mode has its own task role with only what that mode calls (./access.ts).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { Data } from './data';
import { grantMode } from './permissions';

/** The CloudWatch namespace the agent publishes the service's gauges in, and their one dimension. */
export const METRIC_NAMESPACE = 'EventTicket';
export const METRIC_DIMENSIONS = { job: 'eventticket' };
/** The API container's Prometheus port (METRICS_PORT), scraped by the sidecar over localhost. */
const METRICS_PORT = 9464;
const API_PORT = 8080;

export interface ServicesProps {
  vpc: ec2.IVpc;
  data: Data;
  tableKey: kms.IKey;
  image: ecs.ContainerImage;
  resourcePrefix: string;
  /** rediss://host:port of the ElastiCache primary endpoint. */
  redisUrl: string;
  /** The token issuer, audience, JWKS URL and roles claim (SSM parameters; the API reads them at start). */
  auth: {
    issuer: ssm.IStringParameter;
    audience: ssm.IStringParameter;
    jwksUrl: ssm.IStringParameter;
    rolesClaim: ssm.IStringParameter;
  };
  /** HTTPS on 443 (and HTTP redirected) when given; else HTTP on 80. */
  certificate?: acm.ICertificate;
  cloudWatchAgentImage: string;
  apiTasks: { min: number; max: number };
  workerTasks: { min: number; max: number };
}

export class Services extends Construct {
  readonly cluster: ecs.Cluster;
  readonly api: ecsPatterns.ApplicationLoadBalancedFargateService;
  readonly workers: ecs.FargateService;
  readonly apiTaskRole: ecs.TaskDefinition['taskRole'];
  readonly workerTaskRole: ecs.TaskDefinition['taskRole'];
  /** The work queues the workers consume (the DLQs are not among them). */
  readonly workQueues: Data['queues'][keyof Data['queues']][];

  constructor(scope: Construct, id: string, props: ServicesProps) {
    super(scope, id);
    const { data } = props;
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    const environment = (mode: 'api' | 'worker'): Record<string, string> => ({
      NODE_ENV: 'production',
      SERVICE_MODE: mode,
      AWS_REGION: Stack.of(this).region,
      RESOURCE_PREFIX: props.resourcePrefix,
      REDIS_URL: props.redisUrl,
      PORT: String(API_PORT),
      LOG_LEVEL: 'info',
      ...(mode === 'api' ? { METRICS_PORT: String(METRICS_PORT) } : {}),
    });
    const logGroup = (name: string) =>
      new logs.LogGroup(this, `${name}Logs`, { retention: logs.RetentionDays.ONE_MONTH });

    // ---- api ----------------------------------------------------------------------------------
    const apiTask = new ecs.FargateTaskDefinition(this, 'ApiTask', { cpu: 1024, memoryLimitMiB: 2048 });
    apiTask.addContainer('app', {
      image: props.image,
      environment: environment('api'),
      // Not secret, but kept out of the template and the image: changed in SSM, picked up at the next start.
      secrets: {
        AUTH_ISSUER: ecs.Secret.fromSsmParameter(props.auth.issuer),
        AUTH_AUDIENCE: ecs.Secret.fromSsmParameter(props.auth.audience),
        AUTH_JWKS_URL: ecs.Secret.fromSsmParameter(props.auth.jwksUrl),
        AUTH_ROLES_CLAIM: ecs.Secret.fromSsmParameter(props.auth.rolesClaim),
      },
      portMappings: [{ containerPort: API_PORT }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'api', logGroup: logGroup('Api') }),
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${API_PORT}/actuator/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      stopTimeout: Duration.seconds(30),
    });
    this.addMetricsAgent(apiTask, props.cloudWatchAgentImage);
    grantMode(apiTask.taskRole, 'api', data, props.tableKey);
    this.apiTaskRole = apiTask.taskRole;

    this.api = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Api', {
      cluster: this.cluster,
      taskDefinition: apiTask,
      desiredCount: props.apiTasks.min,
      publicLoadBalancer: true,
      taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      healthCheckGracePeriod: Duration.seconds(60),
      ...(props.certificate
        ? {
            certificate: props.certificate,
            protocol: elbv2.ApplicationProtocol.HTTPS,
            redirectHTTP: true,
            sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          }
        : { protocol: elbv2.ApplicationProtocol.HTTP }),
    });
    this.api.targetGroup.configureHealthCheck({
      path: '/actuator/health',
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    });
    // A graceful stop finishes in-flight requests; 30 s covers the longest (a saga stream poll).
    this.api.targetGroup.setAttribute('deregistration_delay.timeout_seconds', '30');
    this.api.loadBalancer.setAttribute('routing.http.drop_invalid_header_fields.enabled', 'true');
    const accessLogs = new s3.Bucket(this, 'AlbAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // ALB access logs accept SSE-S3 only
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    this.api.loadBalancer.logAccessLogs(accessLogs, 'alb');
    const apiScaling = this.api.service.autoScaleTaskCount({
      minCapacity: props.apiTasks.min,
      maxCapacity: props.apiTasks.max,
    });
    apiScaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });

    // ---- workers ------------------------------------------------------------------------------
    const workerTask = new ecs.FargateTaskDefinition(this, 'WorkerTask', { cpu: 1024, memoryLimitMiB: 2048 });
    workerTask.addContainer('app', {
      image: props.image,
      environment: environment('worker'),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: logGroup('Worker') }),
      // SIGTERM: stop receiving, finish the messages in hand (src/main.ts); Fargate allows up to 120 s.
      stopTimeout: Duration.seconds(60),
    });
    grantMode(workerTask.taskRole, 'worker', data, props.tableKey);
    this.workerTaskRole = workerTask.taskRole;
    this.workers = new ecs.FargateService(this, 'Workers', {
      cluster: this.cluster,
      taskDefinition: workerTask,
      desiredCount: props.workerTasks.min,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
    });

    this.workQueues = [
      data.queues.inventory,
      data.queues.payment,
      data.queues.notification,
      data.queues.timer,
      data.queues.saga,
    ];
    const scaling = this.workers.autoScaleTaskCount({
      minCapacity: props.workerTasks.min,
      maxCapacity: props.workerTasks.max,
    });
    const perMinute = { period: Duration.minutes(1), statistic: cw.Stats.MAXIMUM };
    const ids = ['inventory', 'payment', 'notification', 'timer', 'saga'];
    const depth = new cw.MathExpression({
      label: 'messages visible in the work queues',
      expression: ids.join(' + '),
      usingMetrics: Object.fromEntries(
        this.workQueues.map((q, i) => [ids[i], q.metricApproximateNumberOfMessagesVisible(perMinute)]),
      ),
      period: Duration.minutes(1),
    });
    scaling.scaleOnMetric('QueueDepth', {
      metric: depth,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 0, change: -1 },
        { lower: 200, change: +1 },
        { lower: 2_000, change: +3 },
        { lower: 20_000, change: +10 },
      ],
      cooldown: Duration.minutes(2),
    });
    // The timer queue is left out: its messages wait by design (a hold's timer, up to 900 s a hop).
    const ageIds = ['inventory', 'payment', 'notification', 'saga'];
    const age = new cw.MathExpression({
      label: 'oldest message in the work queues (s)',
      expression: `MAX([${ageIds.join(', ')}])`,
      usingMetrics: Object.fromEntries(
        ageIds.map((key) => [key, data.queues[key as 'saga'].metricApproximateAgeOfOldestMessage(perMinute)]),
      ),
      period: Duration.minutes(1),
    });
    scaling.scaleOnMetric('QueueAge', {
      metric: age,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 30, change: 0 },
        { lower: 30, change: +2 },
        { lower: 120, change: +5 },
      ],
      cooldown: Duration.minutes(2),
    });
  }

  /**
   * The CloudWatch agent beside the app: scrapes http://localhost:9464/metrics every 30 s and
   * writes the gauge an alarm needs (eventticket_sagas_stuck) as EMF log events, which CloudWatch
   * turns into a metric in the EventTicket namespace. No code in the service talks to CloudWatch.
   */
  private addMetricsAgent(task: ecs.FargateTaskDefinition, image: string): void {
    const group = new logs.LogGroup(this, 'PrometheusLogs', { retention: logs.RetentionDays.ONE_WEEK });
    const prometheus = [
      'global:',
      '  scrape_interval: 30s',
      '  scrape_timeout: 10s',
      'scrape_configs:',
      '  - job_name: eventticket',
      '    static_configs:',
      `      - targets: ['localhost:${METRICS_PORT}']`,
    ].join('\n');
    const agent = {
      logs: {
        metrics_collected: {
          prometheus: {
            log_group_name: group.logGroupName,
            prometheus_config_path: 'env:PROMETHEUS_CONFIG_CONTENT',
            emf_processor: {
              metric_namespace: METRIC_NAMESPACE,
              metric_declaration: [
                {
                  source_labels: ['job'],
                  label_matcher: '^eventticket$',
                  // The scrape job's label: one series for the fleet (every task reports the same global count).
                  dimensions: [['job']],
                  metric_selectors: ['^eventticket_sagas_stuck$'],
                },
              ],
            },
          },
        },
        force_flush_interval: 5,
      },
    };
    task.addContainer('cloudwatch-agent', {
      image: ecs.ContainerImage.fromRegistry(image),
      essential: false,
      environment: {
        PROMETHEUS_CONFIG_CONTENT: prometheus,
        CW_CONFIG_CONTENT: Stack.of(this).toJsonString(agent),
      },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'cwagent', logGroup: group }),
    });
    task.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [group.logGroupArn],
      }),
    );
  }
}
