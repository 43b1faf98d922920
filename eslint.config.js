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
      // Prettier (`npm run format`) wraps code at 120 columns but leaves comments and strings alone.
      // Comments are held to 120 here; strings are not split, so that a message stays one greppable
      // line (the rule the Linux kernel's coding style gives for printk strings), nor are URLs.
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true },
      ],
    },
  },
);
