/**
 * `npm run check:client`: a generated client compiles against the live document (issue 27).
 * openapi-typescript (CLI, offline) turns openApiDocument(ROUTE_TABLE) into test/client/generated/openapi.d.ts
 * (not committed), then tsc compiles test/client/usage.ts, a small typed client, against it.
 * Exit code non-zero when either step fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openApiDocument } from '../src/api/openapi';
import { ROUTE_TABLE } from '../src/routes';

const root = resolve(__dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const run = (command: string, args: string[]): number => {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root });
  if (result.error) throw result.error;
  return result.status ?? 1;
};

const dir = mkdtempSync(join(tmpdir(), 'eventticket-openapi-'));
try {
  const doc = join(dir, 'openapi.json');
  writeFileSync(doc, JSON.stringify(openApiDocument(ROUTE_TABLE)));
  const out = join(root, 'test', 'client', 'generated');
  mkdirSync(out, { recursive: true });
  const status =
    run(bin('openapi-typescript'), [doc, '--output', join(out, 'openapi.d.ts')]) ||
    run(bin('tsc'), ['-p', join(root, 'test', 'client', 'tsconfig.json')]);
  process.exitCode = status;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
