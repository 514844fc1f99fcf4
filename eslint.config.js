// Flat config. Type-aware rules everywhere; workflow files additionally may not import
// Node built-ins or anything non-deterministic, because they run inside Temporal's sandbox
// and are replayed: a clock, random source or I/O there breaks replay.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '**/dist/**',
      'node_modules/**',
      '**/node_modules/**',
      'coverage/**',
      '.layer/**',
      'deploy/**',
      'bin/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: [
      'src/workflows/**/*.ts',
      'src/contracts/**/*.ts',
      'packages/worker/src/contracts/**/*.ts',
      'src/envelope/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code is replayed in a sandbox: do I/O in an activity instead.',
            })),
            { name: '@temporalio/activity', message: 'Workflows call activities through proxyActivities.' },
            { name: '@temporalio/client', message: 'Use child workflows or activities from a workflow.' },
            {
              name: '@temporalio/worker',
              message: 'Workers are wired in src/workers, never in workflow code.',
            },
            { name: '@kubernetes/client-node', message: 'Kubernetes calls belong in activities.' },
            { name: '@turbopuffer/turbopuffer', message: 'Store calls belong in activities.' },
            { name: '@aws-sdk/client-s3', message: 'S3 calls belong in activities or the payload codec.' },
          ],
          patterns: [
            {
              group: ['**/activities/*', '!**/activities/index.js'],
              allowTypeImports: true,
              message: 'Import activity types only: import type * as activities.',
            },
            {
              group: ['**/store/*', '**/operator/*', '**/dev/*', '**/cli/*', '**/workers/*'],
              message: 'Not sandbox-safe.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'process', message: 'Workflow inputs carry configuration; process is not available.' },
      ],
    },
  },
);
