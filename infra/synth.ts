/**
 * Synthesizes the stack to CloudFormation, offline: no AWS account, no network, no Docker. The
 * cdk-nag AwsSolutions pack runs as a policy-validation plugin during the synth; a finding that is
 * not acknowledged (./nag-acknowledgements.ts) makes `synth()` throw, with the report in
 * `<outdir>/policy-validation-report.json`.
 */
import { App, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_SETTINGS, EventTicketStack, type EventTicketSettings } from './stack';

/** The stack's name in the assembly (and in CloudFormation). */
export const STACK_NAME = 'EventTicket';
/** The region the template is made for, unless context `region` names another. */
export const DEFAULT_REGION = 'us-east-1';

export interface SynthOptions {
  /** Where the cloud assembly is written (cdk.out). */
  outdir: string;
  /** CDK context values (`-c name=value`): see EventTicketSettings, plus `region`. */
  context?: Record<string, string>;
  /** Run cdk-nag's AwsSolutions pack (default true). */
  nag?: boolean;
}

export interface Synthesized {
  app: App;
  stack: EventTicketStack;
  assembly: CloudAssembly;
  /** The CloudFormation template, as deployed. */
  template: Record<string, unknown>;
}

/** EventTicketSettings from context strings; unknown or malformed values throw. */
export function settingsFrom(context: Record<string, unknown>): EventTicketSettings {
  const text = (name: string): string | undefined => {
    const v = context[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new Error(`context ${name}: expected a string`);
    return v;
  };
  const count = (name: string, fallback: number): number => {
    const v = text(name);
    if (v === undefined) return fallback;
    if (!/^[0-9]{1,3}$/.test(v)) throw new Error(`context ${name}: expected a whole number, got ${v}`);
    return Number(v);
  };
  const prefix = text('resourcePrefix') ?? DEFAULT_SETTINGS.resourcePrefix;
  // The service's own rule for RESOURCE_PREFIX (src/config/config.ts).
  if (!/^[A-Za-z0-9_-]{0,40}$/.test(prefix)) throw new Error(`context resourcePrefix: ${prefix} is not a valid prefix`);
  const settings: EventTicketSettings = {
    resourcePrefix: prefix,
    certificateArn: text('certificateArn'),
    alarmEmail: text('alarmEmail'),
    natGateways: count('natGateways', DEFAULT_SETTINGS.natGateways),
    redisNodeType: text('redisNodeType') ?? DEFAULT_SETTINGS.redisNodeType,
    cloudWatchAgentImage: text('cloudWatchAgentImage') ?? DEFAULT_SETTINGS.cloudWatchAgentImage,
    apiTasks: {
      min: count('apiMinTasks', DEFAULT_SETTINGS.apiTasks.min),
      max: count('apiMaxTasks', DEFAULT_SETTINGS.apiTasks.max),
    },
    workerTasks: {
      min: count('workerMinTasks', DEFAULT_SETTINGS.workerTasks.min),
      max: count('workerMaxTasks', DEFAULT_SETTINGS.workerTasks.max),
    },
  };
  for (const [name, range] of Object.entries({ api: settings.apiTasks, worker: settings.workerTasks })) {
    if (range.min < 1 || range.min > range.max) throw new Error(`context ${name}Min/MaxTasks: need 1 <= min <= max`);
  }
  return settings;
}

/** Builds the app and synthesizes it to `options.outdir`; throws on an unacknowledged cdk-nag finding. */
export function synthesize(options: SynthOptions): Synthesized {
  const app = new App({ outdir: options.outdir, context: options.context });
  const context = { ...app.node.getAllContext() } as Record<string, unknown>;
  const region = typeof context.region === 'string' ? context.region : DEFAULT_REGION;
  const stack = new EventTicketStack(app, STACK_NAME, {
    // Account-agnostic, region fixed: nothing to look up, and region-bound features (ALB access logs) work.
    env: { region },
    settings: settingsFrom(context),
    description: 'EventTicket: saga orchestrator for ticket orders (infra/README.md)',
  });
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as Record<string, unknown>;
  return { app, stack, assembly, template };
}
