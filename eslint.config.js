import tseslint from 'typescript-eslint'
import nodePlugin from 'eslint-plugin-n'

const frameworkImports = {
  paths: ['express', 'fastify', 'fastify-plugin'].map((name) => ({
    name,
    message: 'The core never imports a framework: only src/express.ts and src/fastify.ts do.',
  })),
}

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '**/*.mjs',
      '**/*.cjs',
      'eslint.config.js',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { n: nodePlugin },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      'n/prefer-node-protocol': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    rules: { 'no-console': 'error', 'no-restricted-imports': ['error', frameworkImports] },
  },
  {
    files: ['packages/*/src/express.ts', 'packages/*/src/fastify.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
)
