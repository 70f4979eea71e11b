/**
 * The CDK app's entry: `npm run synth` (writes infra/cdk.out), or the CDK CLI from infra/
 * (`npx cdk synth|diff|deploy`, which sets CDK_OUTDIR and passes `-c` context through CDK_CONTEXT_JSON).
 */
import * as path from 'node:path';
import { synthesize, STACK_NAME } from './synth';

const outdir = process.env.CDK_OUTDIR ?? path.join(__dirname, 'cdk.out');
const { template } = synthesize({ outdir });
const resources = Object.keys((template.Resources as Record<string, unknown> | undefined) ?? {}).length;
console.error(`synthesized ${STACK_NAME}: ${resources} resources in ${outdir}`);
