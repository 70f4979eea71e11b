// ESLint (flat config) with type information, and prettier for the layout (.prettierrc.json).
// `npm run lint` runs both checks; `npm run format` rewrites the layout.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * Tests may skip only with a reason: a `.skip` (or a `cond ? it : it.skip` choice) needs a comment
 * on the line above it or on its own line that says why. `.only` is never committed.
 */
const explainedSkip = {
  meta: { type: 'problem', messages: { unexplained: 'a skipped test needs a comment saying why, on the line above' } },
  create(context) {
    const source = context.sourceCode;
    return {
      "MemberExpression[property.name='skip'][object.name=/^(it|test|describe)$/]"(node) {
        const line = node.loc.start.line;
        const explained = source.getAllComments().some((c) => c.loc.end.line === line - 1 || c.loc.start.line === line);
        if (!explained) context.report({ node, messageId: 'unexplained' });
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.emulator/', 'docs/', '**/*.js', '**/*.mjs', '**/*.py'] },
  // The CDK app's synthesized output (npm run synth).
  { ignores: ['infra/cdk.out/'] },
  // A client compiled by `tsc -p test/client` against types generated at check time (npm run check:client).
  { ignores: ['test/client/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // machines/ is pure: importable without AWS, Express, Redis or anything of the service (src/).
    files: ['machines/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)src(/|$)', message: 'machines/ is pure: it may not import from src/.' },
            { regex: '^@aws-sdk/', message: 'machines/ is pure: no AWS SDK.' },
            {
              regex: '^(express|ioredis|redis|rate-limit-redis|express-rate-limit|helmet)(/|$)',
              message: 'machines/ is pure: no HTTP server or Redis.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { local: { rules: { 'explained-skip': explainedSkip } } },
    rules: {
      'local/explained-skip': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[property.name='only'][object.name=/^(it|test|describe)$/]",
          message: 'no .only in committed tests',
        },
        {
          selector:
            'MemberExpression[property.name=/^(only|skip)$/][object.name=/^f?(it|test|describe)$/][object.name=/^f/]',
          message: 'no focused tests',
        },
      ],
    },
  },
  {
    // Tests read JSON answers (supertest's `body` is `any` by design) and assert on their shape.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  prettier,
  {
    // After prettier's config, which turns max-len off: prettier wraps code at 120, and this
    // catches what it cannot wrap (comments, long strings).
    rules: {
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true },
      ],
    },
  },
);
