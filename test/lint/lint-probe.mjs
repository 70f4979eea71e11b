// Lints probe texts with the project's real eslint.config.mjs, for test/lint/lint-config.test.ts.
// Runs as its own Node process because ESLint loads its config with import(), which jest's VM
// cannot do. Type-aware parsing is off (disableTypeChecked): the probes are not project files.
// stdin: [{ code, filePath }]; stdout: [[{ ruleId, message }]] in the same order.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: [tseslint.configs.disableTypeChecked] });
const out = [];
for (const { code, filePath } of JSON.parse(input)) {
  const [result] = await eslint.lintText(code, { filePath });
  out.push(result.messages.map(({ ruleId, message }) => ({ ruleId, message })));
}
process.stdout.write(JSON.stringify(out));
