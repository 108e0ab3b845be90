// Lint rules that protect the Temporal determinism contract and async correctness.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // web/ (the React app, SPEC §8) is typed by its own web/tsconfig.json, which the
    // project service finds as the nearest tsconfig of each web file.
    files: ['**/*.ts', 'web/**/*.tsx', 'web/**/*.mts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed inside Temporal's sandbox: Node builtins are
    // non-deterministic or unavailable there, and activities run elsewhere.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node builtins are not allowed in workflow code.' })),
          patterns: [
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflows import only the types of activities; activities run outside the sandbox.',
            },
            {
              group: ['**/src/**'],
              message: 'Dependencies point inwards (rules ← workflows ← activities ← src): workflow code never imports src/, not even types.',
            },
          ],
        },
      ],
    },
  },
  {
    // The innermost layer: the rules are pure functions of (state, event, now), shared by
    // the workflow, the API's validators and the tests. No Temporal, no I/O, no other layer.
    files: ['workflows/rules/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'The rules are pure: no Node builtins.' })),
          patterns: [
            { group: ['../*', '../**'], message: 'The rules import nothing outside workflows/rules/ (rules ← workflows ← activities ← src).' },
            { group: ['@temporalio/*'], message: 'The rules are pure: no Temporal APIs (the workflow wires them to Temporal).' },
          ],
        },
      ],
    },
  },
  {
    // The API process and activities talk to workflows through their contracts only, so
    // they never load a workflow implementation (or `proxyActivities`) outside the sandbox.
    files: ['src/**/*.ts', 'activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+workflows(?!/(rules/[^/]+|[^/]+/contract|search-attributes)$)',
              allowTypeImports: true,
              message:
                "Outside workflows/, import a workflow's contract (workflows/<name>/contract), the rules or the search attributes; never its implementation.",
            },
          ],
        },
      ],
    },
  },
  {
    // One data-access layer: only src/store (and the database setup in src/db) touches
    // storage. Everything else calls the store, which returns plain typed objects.
    // The core rule, so it neither replaces the workflow block's options above nor lets
    // type-only imports through.
    files: ['**/*.ts'],
    ignores: ['src/store/**', 'src/db/**', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['knex', 'pg'].map((name) => ({
            name,
            message: 'Storage is reached only through the data-access layer: use the Store from src/store (add a function there if one is missing).',
          })),
          patterns: [
            {
              group: ['**/db/knex', '**/db/knex.ts', 'pg/*', 'knex/*'],
              message:
                'Storage is reached only through the data-access layer: use the Store from src/store (createStore, createDatabase and migrateToLatest are exported there).',
            },
          ],
        },
      ],
    },
  },
);
