/**
 * The CDK app (infra/) synthesizes offline, passes cdk-nag's AwsSolutions pack with only the
 * acknowledged findings, and holds what the issue asks of it: encryption, point-in-time recovery,
 * least privilege per mode, the services, Redis, the alarms, no key in the template.
 *
 * `npm run synth` itself runs once (a child process, no AWS variables in its environment); the
 * other checks synthesize in-process, which is what `npm run synth` calls (infra/synth.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ACCESS } from '../../infra/access';
import { queueProps, tableProps } from '../../infra/data';
import { NAG_ACKNOWLEDGEMENTS } from '../../infra/nag-acknowledgements';
import { settingsFrom, STACK_NAME, synthesize, type Synthesized } from '../../infra/synth';
import definitions from '../../init-scripts/resources.json';

const ROOT = path.resolve(__dirname, '..', '..');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON, read by shape in the assertions
type Resource = { Type: string; Properties: Record<string, any> };
const resourcesOf = (template: Record<string, unknown>, type: string): Array<[string, Resource]> =>
  Object.entries(template.Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    conclusion: string;
    violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
    suppressedViolations?: Array<{ ruleName: string; acknowledgedId: string; acknowledgedAt: string; reason: string }>;
  }>;
}

describe('npm run synth', () => {
  it('writes the CloudFormation template with no AWS account or credentials in its environment', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-out-'));
    try {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
      const run = spawnSync('npm', ['run', '--silent', 'synth'], {
        cwd: ROOT,
        env: { ...env, CDK_OUTDIR: outdir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
      const template = JSON.parse(readFileSync(path.join(outdir, `${STACK_NAME}.template.json`), 'utf8'));
      expect(resourcesOf(template, 'AWS::DynamoDB::GlobalTable')).toHaveLength(definitions.tables.length);
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
      expect(report.pluginReports.map((p) => [p.pluginName, p.conclusion])).toEqual([['AwsSolutions', 'success']]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('the EventTicket stack', () => {
  let outdir: string;
  let synthesized: Synthesized;
  let template: Template;

  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'cdk-out-'));
    synthesized = synthesize({ outdir });
    template = Template.fromJSON(synthesized.template);
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('passes cdk-nag AwsSolutions: no open finding, every acknowledged one has its reason, none stale', () => {
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
    const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
    const suppressed = nag?.suppressedViolations ?? [];
    const used = new Set(suppressed.map((s) => `${s.acknowledgedAt}|${s.acknowledgedId}`));
    const declared = NAG_ACKNOWLEDGEMENTS.map((a) => `${STACK_NAME}/${a.path}|AwsSolutions::${a.rule}`);
    // Each acknowledgement still matches a finding (a fixed finding must lose its acknowledgement).
    expect(declared.filter((d) => !used.has(d))).toEqual([]);
    for (const s of suppressed) expect(s.reason.length).toBeGreaterThan(40);
  });

  it('has no CDK warning or error annotation', () => {
    const annotations = Annotations.fromStack(synthesized.stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('keeps every table: point-in-time recovery, deletion protection, KMS encryption, retained on delete', () => {
    const tables = resourcesOf(synthesized.template, 'AWS::DynamoDB::GlobalTable');
    expect(tables).toHaveLength(definitions.tables.length);
    for (const [, table] of tables) {
      expect(table).toMatchObject({ DeletionPolicy: 'Retain' });
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      for (const replica of table.Properties.Replicas) {
        expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
        expect(replica.DeletionProtectionEnabled).toBe(true);
        expect(replica.SSESpecification.KMSMasterKeyId).toBeDefined();
      }
    }
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('encrypts every queue (SSE-SQS), refuses plain HTTP to it, and runs the FIFO queues in high-throughput mode', () => {
    const queues = resourcesOf(synthesized.template, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(definitions.queues.length);
    for (const [, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      if (queue.Properties.FifoQueue) {
        expect(queue.Properties).toMatchObject({
          DeduplicationScope: 'messageGroup',
          FifoThroughputLimit: 'perMessageGroupId',
        });
      }
    }
    const policies = resourcesOf(synthesized.template, 'AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(queues.length);
    for (const [, policy] of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });

  it('gives each mode its own task role with exact actions: no wildcard action, no "*" resource', () => {
    const policies = resourcesOf(synthesized.template, 'AWS::IAM::Policy').filter(([id]) => /TaskTaskRole/.test(id));
    expect(policies.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'ServicesApiTaskTaskRoleDefaultPolicy',
      'ServicesWorkerTaskTaskRoleDefaultPolicy',
    ]);
    for (const [, policy] of policies) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
        for (const resource of [statement.Resource].flat()) {
          const text = JSON.stringify(resource);
          expect(text).not.toBe('"*"');
          // The one wildcard allowed: the GSIs of one named table.
          if (text.includes('*')) expect(text).toMatch(/"Arn"\]\},"\/index\/\*"\]\]\}$/);
        }
      }
    }
    const actionsOf = (mode: 'Api' | 'Worker') =>
      policies
        .find(([id]) => id.startsWith(`Services${mode}Task`))![1]
        .Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    // The API never consumes a work queue; the worker never scans, never deletes a table item,
    // never touches order numbers.
    expect(actionsOf('Api')).toEqual(expect.arrayContaining(['sqs:ReceiveMessage'])); // the DLQs (operator redrive)
    expect(ACCESS.api.queues.saga).not.toContain('sqs:ReceiveMessage');
    expect(actionsOf('Worker')).not.toContain('dynamodb:Scan');
    expect(actionsOf('Worker')).not.toContain('dynamodb:DeleteItem');
    expect(ACCESS.worker.tables.orderNumbers).toBeUndefined();
  });

  it('runs the API behind a public ALB with its health check, and the workers on Fargate scaling on queue depth and age', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/actuator/health',
      Matcher: { HttpCode: '200' },
    });
    template.resourceCountIs('AWS::ECS::Service', 2);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Environment: Match.arrayWith([{ Name: 'SERVICE_MODE', Value: 'worker' }]),
        }),
      ]),
    });
    const scaling = JSON.stringify(resourcesOf(synthesized.template, 'AWS::CloudWatch::Alarm').map(([, a]) => a));
    expect(scaling).toContain('ApproximateNumberOfMessagesVisible');
    expect(scaling).toContain('ApproximateAgeOfOldestMessage');
    const policies = resourcesOf(synthesized.template, 'AWS::ApplicationAutoScaling::ScalingPolicy').map(
      ([, p]) => p.Properties.PolicyType,
    );
    expect(policies.filter((t) => t === 'StepScaling').length).toBeGreaterThanOrEqual(3); // depth in/out, age out
  });

  it('runs Redis on ElastiCache in private subnets, encrypted at rest and in transit, multi-AZ', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
    });
    const api = JSON.stringify(synthesized.template);
    expect(api).toContain('rediss://');
  });

  it('alarms on every DLQ, stuck sagas (metric missing counts), the oldest message of every work queue, and 5xx', () => {
    const alarms = resourcesOf(synthesized.template, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties)
      .filter((p) => (p.AlarmActions ?? []).length > 0);
    const named = (metric: string) => alarms.filter((a) => a.MetricName === metric);
    expect(named('ApproximateNumberOfMessagesVisible')).toHaveLength(2);
    expect(named('ApproximateAgeOfOldestMessage')).toHaveLength(5);
    expect(named('eventticket_sagas_stuck')).toEqual([
      expect.objectContaining({ Namespace: 'EventTicket', Threshold: 1, TreatMissingData: 'breaching' }),
    ]);
    expect(named('HTTPCode_Target_5XX_Count')).toHaveLength(1);
    expect(named('HTTPCode_ELB_5XX_Count')).toHaveLength(1);
  });

  it('takes the token issuer, audience, JWKS URL and roles claim as parameters into SSM, and carries no key', () => {
    const parameters = synthesized.template.Parameters as Record<string, unknown>;
    expect(Object.keys(parameters)).toEqual(
      expect.arrayContaining([
        'AuthIssuer',
        'AuthAudience',
        'AuthJwksUrl',
        'AuthRolesClaim',
        'ImageRepositoryName',
        'ImageTag',
      ]),
    );
    template.resourceCountIs('AWS::SSM::Parameter', 4);
    const api = resourcesOf(synthesized.template, 'AWS::ECS::TaskDefinition').find(([id]) => id.includes('ApiTask'))!;
    const app = api[1].Properties.ContainerDefinitions.find((c: { Name: string }) => c.Name === 'app');
    expect(app.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      'AUTH_AUDIENCE',
      'AUTH_ISSUER',
      'AUTH_JWKS_URL',
      'AUTH_ROLES_CLAIM',
    ]);
    const text = JSON.stringify(synthesized.template);
    expect(text).not.toMatch(/BEGIN [A-Z ]*KEY|AUTH_PUBLIC_KEY|"kty"/);
  });
});

describe('the mapping from resources.json', () => {
  it('maps a TTL and a stream when a definition gives them (none does today)', () => {
    const key = new kms.Key(new Stack(), 'Key');
    const table = {
      ...definitions.tables[0],
      TimeToLiveSpecification: { AttributeName: 'expiresAtEpoch', Enabled: true },
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    };
    expect(tableProps(table, key)).toMatchObject({
      timeToLiveAttribute: 'expiresAtEpoch',
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    expect(tableProps(definitions.tables[0], key)).toMatchObject({
      timeToLiveAttribute: undefined,
      dynamoStream: undefined,
    });
  });

  it('refuses a field it does not map instead of dropping it', () => {
    const table = { ...definitions.tables[0], SSESpecification: { Enabled: true } };
    expect(() => tableProps(table as never, undefined as never)).toThrow(/SSESpecification/);
    const queue = { QueueName: 'q', Attributes: { KmsMasterKeyId: 'alias/x' } };
    expect(() => queueProps(queue, new Map())).toThrow(/KmsMasterKeyId/);
  });

  it('applies the resource prefix to every table and queue name, as RESOURCE_PREFIX does for the service', () => {
    expect(settingsFrom({ resourcePrefix: 'staging-' }).resourcePrefix).toBe('staging-');
    expect(() => settingsFrom({ resourcePrefix: 'bad prefix!' })).toThrow(/resourcePrefix/);
    expect(() => settingsFrom({ workerMinTasks: '5', workerMaxTasks: '2' })).toThrow(/min <= max/);
  });
});
