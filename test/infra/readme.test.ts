/**
 * The README is tested: its ```bash blocks run, in order, against a live `npm run dev` (its own
 * ports, test/support/dev.ts), in a shell that sourced the dev's env file, and each command must
 * get what its comment promises. So a README that drifts from the code fails the build.
 *
 * The convention (README, "Try it"), also what this file parses:
 * - A command is a line, with its `\` continuation lines. A line `NAME=...` is a shell variable that
 *   later commands see.
 * - `# → NNN` promises HTTP status NNN for the curl of that command: as its trailing comment, or as
 *   a comment line right after it (`# → 202 {"orderId":…}`); `# → 200|404` allows either. A curl
 *   without a promise must answer below 400. Any other command must exit 0.
 * - `<name>` (e.g. `<orderId>`, `<id>`) is replaced by the value of the field `name` in the
 *   most recent JSON answer that had one (found at any depth).
 * - `localhost:8080` and `localhost:9464` are the dev's API and metrics ports, `.dev/env` its env file.
 * - Launchers are not run: `npm ci`, `npm run dev`, `npm test`, `docker compose`, `bash .ci/run`
 *   (this test is what starts `npm run dev`, and it runs inside `npm test`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startLiveDev, type LiveDev } from '../support/dev';

const ROOT = path.resolve(__dirname, '..', '..');
const LAUNCHERS = [
  /^npm ci\b/,
  /^npm run dev\b/,
  /^npm test\b/,
  /^docker[- ]compose\b/,
  /^docker compose\b/,
  /^bash \.ci\/run\b/,
];

/** One runnable command of the README, with what its comment promises. */
export interface ReadmeCommand {
  /** The command as written (continuations joined with their `\` and newline). */
  text: string;
  /** Allowed HTTP statuses (from `# → NNN`), or undefined (then: below 400). */
  statuses?: number[];
  /** Is it a variable assignment later commands see? */
  assignment: boolean;
  line: number;
}

const PROMISE = /#\s*→\s*(\d{3}(?:\|\d{3})*)\b/;

/** The README's ```bash blocks, cut into commands (see the file header for the convention). */
export function readmeCommands(markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  const lines = markdown.split('\n');
  let inBash = false;
  let current: { parts: string[]; line: number } | undefined;
  const flush = () => {
    if (!current) return;
    const text = current.parts.join('\n');
    const promise = PROMISE.exec(text);
    commands.push({
      text,
      statuses: promise ? promise[1].split('|').map(Number) : undefined,
      assignment: /^[A-Za-z_][A-Za-z0-9_]*=/.test(text),
      line: current.line,
    });
    current = undefined;
  };
  for (const [i, raw] of lines.entries()) {
    if (/^```/.test(raw)) {
      if (inBash) flush();
      inBash = !inBash && /^```bash\s*$/.test(raw);
      continue;
    }
    if (!inBash) continue;
    const line = raw.trimEnd();
    if (current && current.parts[current.parts.length - 1].endsWith('\\')) {
      current.parts.push(line);
      continue;
    }
    if (/^\s*#/.test(line)) {
      // A promise on its own line belongs to the command above it.
      const promise = PROMISE.exec(line);
      if (promise && current && !PROMISE.test(current.parts.join('\n'))) current.parts.push(line.trim());
      else flush();
      continue;
    }
    flush();
    if (line.trim() === '') continue;
    current = { parts: [line], line: i + 1 };
  }
  flush();
  return commands;
}

/** The value of `field` at any depth of a JSON value, first found. */
function findField(value: unknown, field: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && typeof (value as Record<string, unknown>)[field] === 'string')
    return (value as Record<string, string>)[field];
  for (const v of Object.values(value as Record<string, unknown>)) {
    const found = findField(v, field);
    if (found !== undefined) return found;
  }
  return undefined;
}

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('readmeCommands (the convention)', () => {
  it('joins continuations, attaches a promise line to the command above, and reads alternatives', () => {
    const md = [
      '```bash',
      'curl -s -X POST x \\',
      "  -d '{}'",
      '# → 202 {"orderId":"…"}',
      'C="Authorization: Bearer $T"   # who',
      'curl -s y   # → 200|404 maybe',
      '# a plain comment',
      'curl -s z',
      '```',
      '```js',
      'curl -s never',
      '```',
    ].join('\n');
    expect(readmeCommands(md).map(({ text, statuses, assignment }) => ({ text, statuses, assignment }))).toEqual([
      { text: 'curl -s -X POST x \\\n  -d \'{}\'\n# → 202 {"orderId":"…"}', statuses: [202], assignment: false },
      { text: 'C="Authorization: Bearer $T"   # who', statuses: undefined, assignment: true },
      { text: 'curl -s y   # → 200|404 maybe', statuses: [200, 404], assignment: false },
      { text: 'curl -s z', statuses: undefined, assignment: false },
    ]);
  });
});

describe('the README, run against a live npm run dev', () => {
  let dev: LiveDev;
  beforeAll(async () => {
    dev = await startLiveDev();
  }, 120000);
  afterAll(async () => {
    await dev?.stop();
  }, 90000);

  it('every command gets what its comment promises', () => {
    const commands = readmeCommands(readme);
    expect(commands.length).toBeGreaterThan(20);
    const apiPort = new URL(dev.vars.API_URL).port;
    const metricsPort = new URL(dev.vars.METRICS_URL).port;
    const assignments: string[] = [];
    const answers: unknown[] = [];
    const failures: string[] = [];
    let ran = 0;
    for (const command of commands) {
      const firstLine = command.text.split('\n')[0].trim();
      if (LAUNCHERS.some((re) => re.test(firstLine))) continue;
      let text = command.text
        .replace(/localhost:8080\b/g, `localhost:${apiPort}`)
        .replace(/localhost:9464\b/g, `localhost:${metricsPort}`)
        .replace(/(^|\s)\.dev\/env\b/g, `$1'${dev.envFile}'`);
      for (const placeholder of new Set(text.match(/<[A-Za-z]+>/g) ?? [])) {
        const field = placeholder.slice(1, -1);
        const value = [...answers]
          .reverse()
          .map((a) => findField(a, field))
          .find((v) => v !== undefined);
        if (value === undefined) {
          failures.push(`README:${command.line}: no earlier answer has a ${field} for ${placeholder}`);
          continue;
        }
        text = text.split(placeholder).join(value);
      }
      if (command.assignment) {
        assignments.push(text);
        continue;
      }
      // curl prints the status after the body, on a line of its own, whatever the command's flags.
      const script = [
        'set -o pipefail',
        `source '${dev.envFile}'`,
        `curl() { command curl -sS -w '\\n@@status %{http_code}\\n' "$@"; }`,
        ...assignments,
        text,
      ].join('\n');
      const result = spawnSync('bash', ['-c', script], {
        cwd: ROOT,
        encoding: 'utf8',
        env: dev.shellEnv({ DEV_DIR: dev.devDir }),
        timeout: 60000,
      });
      ran++;
      const statuses = [...result.stdout.matchAll(/^@@status (\d{3})$/gm)].map((m) => Number(m[1]));
      const body = result.stdout.replace(/^@@status \d{3}$/gm, '').trim();
      const jsonStart = body.search(/[[{]/);
      if (jsonStart >= 0) {
        try {
          answers.push(JSON.parse(body.slice(jsonStart)));
        } catch {
          /* not JSON (headers, text): no fields to offer */
        }
      }
      const where = `README:${command.line}: ${firstLine}`;
      if (result.status !== 0) {
        failures.push(`${where}\n  exit ${result.status}: ${(result.stderr || body).slice(-400)}`);
        continue;
      }
      if (/^\s*curl\b/.test(text)) {
        const status = statuses[statuses.length - 1];
        const ok = command.statuses ? command.statuses.includes(status) : status < 400;
        if (!ok)
          failures.push(
            `${where}\n  got ${status}, the README promises ${command.statuses?.join('|') ?? '< 400'}: ${body.slice(0, 300)}`,
          );
      }
    }
    expect(ran).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  }, 240000);
});
