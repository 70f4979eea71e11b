/**
 * One Node line everywhere: package.json's engines, .nvmrc, the Dockerfile's images, the Node that
 * .ci/run installs, @types/node, and the Node this suite runs on. Node 20 is end-of-life (April
 * 2026) and AWS SDK v3 releases after the first week of January 2027 need Node >= 22, so the SDK's
 * NodeVersionSupportWarning must not appear, with no variable silencing it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};

/** ">=22.13" → [22, 13]; the only engines form this project uses. */
const floor = (() => {
  const m = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
  if (!m) throw new Error(`engines.node ${pkg.engines.node} is not of the form >=MAJOR.MINOR`);
  return [Number(m[1]), Number(m[2])] as const;
})();
const fits = (version: string) => {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > floor[0] || (major === floor[0] && minor >= floor[1]);
};
const lts = Number(read('.nvmrc').trim());

describe('the Node version', () => {
  it('is a supported line: engines >= 22, .nvmrc 24 (LTS) within it', () => {
    expect(floor[0]).toBeGreaterThanOrEqual(22);
    expect(lts).toBe(24);
    expect(fits(`${lts}.0.0`)).toBe(true);
  });

  it('is the one the Dockerfile builds and runs on (slim images)', () => {
    const images = [...read('Dockerfile').matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) expect(image).toMatch(new RegExp(`^node:${lts}-(bookworm-)?slim\\b`));
  });

  it('is the one .ci/run installs when the machine has an older Node, with the same floor', () => {
    const run = read('.ci/run');
    const pin = /^NODE_PIN=(\d+)\.(\d+)\.(\d+)$/m.exec(run);
    expect(pin?.[1]).toBe(String(lts));
    // node_fits in .ci/run spells the engines floor out: a>MAJOR||(a===MAJOR&&b>=MINOR).
    expect(run).toContain(`a>${floor[0]}||(a===${floor[0]}&&b>=${floor[1]})`);
    expect(run).toMatch(/npm install --prefix "\$node_prefix" .*"node-linux-\$arch@\$NODE_PIN"/);
    expect(run).not.toContain('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED');
  });

  it('has its own type definitions (@types/node of the same major)', () => {
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^${lts}\\.\\d+\\.\\d+$`));
  });

  it('runs this suite', () => {
    expect({ node: process.version, fits: fits(process.version) }).toEqual({ node: process.version, fits: true });
  });

  it('gives no AWS SDK NodeVersionSupportWarning, with nothing silencing it', () => {
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const child = spawnSync(
      process.execPath,
      ['-e', "const { SQSClient } = require('@aws-sdk/client-sqs'); new SQSClient({ region: 'us-east-1' });"],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(child.status).toBe(0);
    expect(child.stderr).not.toContain('NodeVersionSupportWarning');
  });
});
