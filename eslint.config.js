// Lint rules for the whole repository. Type-aware checks are left to `tsc --strict`;
// ESLint keeps to what the compiler does not see.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // src/proto/generated/ is proto-loader-gen-types' output, checked by test/proto/generated.test.ts.
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'src/proto/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
