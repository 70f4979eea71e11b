/**
 * `npm run lint:api`: Redocly CLI's lint (recommended ruleset, redocly.yaml) of the live OpenAPI
 * document, openApiDocument(ROUTE_TABLE) as GET /openapi.json serves it, written to a temporary file.
 * Offline: telemetry and the update check are off. Exit code: redocly's (non-zero on any error);
 * the warnings left are explained in docs/api.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openApiDocument } from '../src/api/openapi';
import { ROUTE_TABLE } from '../src/routes';

const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'eventticket-openapi-'));
const file = join(dir, 'openapi.json');
try {
  writeFileSync(file, `${JSON.stringify(openApiDocument(ROUTE_TABLE), null, 2)}\n`);
  const result = spawnSync(
    join(root, 'node_modules', '.bin', 'redocly'),
    ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'stylish'],
    {
      stdio: 'inherit',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  if (result.error) throw result.error;
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
