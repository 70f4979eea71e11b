/**
 * The import check (`npm run deps`, .dependency-cruiser.js) fails on what it should: an import
 * cycle, and an arrow against the layers of docs/architecture.md. The real config cruises small
 * trees written to a temporary folder (the rules match paths from the repository's root), so the
 * repository's own tree is never touched; `npm run deps` checks that one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** Cruises `files` (path → text) with the repository's config: exit status and report. */
function cruise(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'import-check-'));
  try {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs' } }));
    // The packages resolve as in the repository (the AWS SDK rule matches resolved paths).
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const run = spawnSync(
      process.execPath,
      [CLI, 'src', 'machines', '--config', join(ROOT, '.dependency-cruiser.js'), '--no-progress'],
      { cwd: dir, encoding: 'utf8' },
    );
    return { status: run.status, out: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const clean = {
  'machines/order-saga/decide.ts': 'export const decide = 1;\n',
  'src/store/saga-store.ts':
    "import { decide } from '../../machines/order-saga/decide';\nexport const store = decide;\n",
  'src/runtime/saga-runtime.ts': "import { store } from '../store/saga-store';\nexport const runtime = store;\n",
};

describe('the import check', () => {
  it('passes arrows that run the documented way', () => {
    const { status, out } = cruise(clean);
    expect(out).toMatch(/no dependency violations/);
    expect(status).toBe(0);
  });

  it('fails an arrow against the layers: the store importing the runtime, even for a type', () => {
    const { status, out } = cruise({
      ...clean,
      'src/store/order-numbers.ts':
        "import type { runtime } from '../runtime/saga-runtime';\nexport type X = typeof runtime;\n",
    });
    expect(out).toMatch(/store-below-runtime: src\/store\/order-numbers\.ts → src\/runtime\/saga-runtime\.ts/);
    expect(status).not.toBe(0);
  });

  it('fails a DynamoDB command built outside the table owners (a type of the client is fine)', () => {
    const { status, out } = cruise({
      ...clean,
      'src/runtime/sweeper.ts':
        "import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';\n" +
        'export const q = (doc: DynamoDBDocumentClient) => doc.send(new QueryCommand({ TableName: "t" }));\n',
      'src/runtime/typed.ts':
        "import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';\nexport type D = DynamoDBDocumentClient;\n",
    });
    expect(out).toMatch(/dynamodb-only-in-table-owners: src\/runtime\/sweeper\.ts/);
    expect(out).not.toMatch(/src\/runtime\/typed\.ts/);
    expect(status).not.toBe(0);
  });

  it('fails an import cycle, and an impure machine', () => {
    const { status, out } = cruise({
      ...clean,
      'src/store/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'src/store/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
      'machines/order-saga/impure.ts': "import { store } from '../../src/store/saga-store';\nexport const x = store;\n",
    });
    expect(out).toMatch(/no-cycle: src\/store\/(a|b)\.ts/);
    expect(out).toMatch(/machines-pure: machines\/order-saga\/impure\.ts/);
    expect(status).not.toBe(0);
  });

  it('keeps the API and the console apart, and src/http/ below both (src/routes.ts joins them)', () => {
    const { status, out } = cruise({
      ...clean,
      'src/http/route.ts': 'export const route = 1;\n',
      'src/console/room.ts': "import { route } from '../http/route';\nexport const room = route;\n",
      'src/api/app.ts': "import { room } from '../console/room';\nexport const app = room;\n",
      'src/http/problem.ts': "import { app } from '../api/app';\nexport const problem = app;\n",
      'src/routes.ts':
        "import { app } from './api/app';\nimport { room } from './console/room';\nexport const t = [app, room];\n",
    });
    expect(out).toMatch(/api-not-console: src\/api\/app\.ts → src\/console\/room\.ts/);
    expect(out).toMatch(/http-shared-below-rooms: src\/http\/problem\.ts → src\/api\/app\.ts/);
    // The composition root may import both rooms; a room may import src/http/.
    expect(out).not.toMatch(/src\/routes\.ts →/);
    expect(out).not.toMatch(/src\/console\/room\.ts → src\/http/);
    expect(status).not.toBe(0);
  });
});
