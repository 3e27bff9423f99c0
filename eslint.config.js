import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'certs/**', 'charts/**', '.rollguard-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // src/http/node-http.ts says why: an ESM import of node:http loads Node's bundled undici.
    // zod's `z` (named or default) is its whole namespace object, which the bundle cannot shake:
    // with `import * as z` it keeps only the schemas rollguard builds.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [
          ...['node:http', 'node:https', 'http', 'https'].map((name) => ({ name, allowTypeImports: true, message: "import { http, https } from src/http/node-http.ts: an ESM import of node:http costs ~10 MB of RSS" })),
        ],
      }],
      'no-restricted-syntax': ['error', {
        selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > :matches(ImportSpecifier[imported.name='z'], ImportDefaultSpecifier)",
        message: "import * as z from 'zod': the z export is the whole namespace, which keeps every schema type and locale in the bundle (1–2 MB of RSS)",
      }, {
        selector: ":matches(ExportNamedDeclaration > FunctionDeclaration[id.name='then'], ExportNamedDeclaration > VariableDeclaration > VariableDeclarator[id.name='then'], ExportSpecifier[exported.name='then'])",
        message: "a module that exports `then` is a thenable: every dynamic import() of it resolves to what then() gives, not to the module; name it otherwise",
      }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
  },
);
