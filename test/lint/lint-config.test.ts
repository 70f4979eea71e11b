/**
 * The lint config's own rules do what they say: machines/ stays pure, and tests neither focus
 * (`.only`) nor skip without a reason. The real eslint.config.mjs lints each probe text, in one
 * child process (lint-probe.mjs: ESLint loads its config with import(), which jest's VM cannot).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

type Message = { ruleId: string | null; message: string };

const MACHINE = 'machines/order-saga/purity-probe.ts';
const TEST = 'test/lint/probe.test.ts';

const impure: Array<[string, RegExp]> = [
  ["import { createApp } from '../../src/api/app';", /may not import from src/],
  ["import type { Config } from '../../src/config/config';", /may not import from src/],
  ["import { SQSClient } from '@aws-sdk/client-sqs';", /no AWS SDK/],
  ["import express from 'express';", /no HTTP server or Redis/],
  ["import Redis from 'ioredis';", /no HTTP server or Redis/],
];
const pureMachine =
  "import { setup } from 'xstate';\nimport { FINAL_STATES } from './status';\nexport const probe = [setup, FINAL_STATES];\n";
const serviceFile = "import { createApp } from '../src/routes';\nexport const probe = createApp;\n";
// Spelled in parts so that this file holds no focused-test text for a search to trip on.
const ONLY = ['on', 'ly'].join('');
const focused = [`it.${ONLY}('x', () => expect(1).toBe(1));\n`, `describe.${ONLY}('x', () => undefined);\n`];
const bareSkip = "const ok = true;\n(ok ? it : it.skip)('x', () => expect(1).toBe(1));\n";
const explainedSkip =
  "const ok = true;\n// Needs the AWS CLI, which not every machine has.\n(ok ? it : it.skip)('x', () => expect(1).toBe(1));\n";

const probes = [
  ...impure.map(([line]) => ({ code: `${line}\nexport const probe = 1;\n`, filePath: MACHINE })),
  { code: pureMachine, filePath: MACHINE },
  { code: serviceFile, filePath: 'scripts/purity-probe.ts' },
  ...focused.map((code) => ({ code, filePath: TEST })),
  { code: bareSkip, filePath: TEST },
  { code: explainedSkip, filePath: TEST },
];

let results: Message[][] = [];
const resultOf = (code: string, filePath: string): Message[] => {
  const i = probes.findIndex((p) => p.code === code && p.filePath === filePath);
  if (i < 0 || !results[i]) throw new Error(`no lint result for a probe of ${filePath}`);
  return results[i];
};
const rules = (messages: Message[]) => messages.map((m) => m.ruleId);

beforeAll(() => {
  const run = spawnSync(process.execPath, [join(__dirname, 'lint-probe.mjs')], {
    input: JSON.stringify(probes),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`lint-probe failed: ${run.stderr}`);
  results = JSON.parse(run.stdout) as Message[][];
});

describe('machines/ is pure', () => {
  it.each(impure)('refuses %s in a machine file', (line, reason) => {
    const purity = resultOf(`${line}\nexport const probe = 1;\n`, MACHINE).filter(
      (m) => m.ruleId === 'no-restricted-imports',
    );
    expect(purity).toHaveLength(1);
    expect(purity[0]?.message).toMatch(reason);
  });

  it('lets a machine import xstate and its own files, and lets the rest import src/', () => {
    expect(rules(resultOf(pureMachine, MACHINE))).not.toContain('no-restricted-imports');
    expect(rules(resultOf(serviceFile, 'scripts/purity-probe.ts'))).not.toContain('no-restricted-imports');
  });
});

describe('tests are neither focused nor skipped without a reason', () => {
  it.each(focused)('refuses %s', (code) => {
    expect(rules(resultOf(code, TEST))).toContain('no-restricted-syntax');
  });

  it('refuses a skip with no comment, accepts one with a reason on the line above', () => {
    expect(rules(resultOf(bareSkip, TEST))).toContain('local/explained-skip');
    expect(rules(resultOf(explainedSkip, TEST))).not.toContain('local/explained-skip');
  });
});
