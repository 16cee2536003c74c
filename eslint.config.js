// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The Espruino interpreter's subset (targets/espruino, issue 15): what the
    // interpreter (2v29, ../shared/tools/espruino) lacks or gets wrong, found
    // with small snippets; docs/espruino.md "The language subset" lists them.
    // The sources parse as ES2022 scripts so each construct is reported by a
    // rule with the reason, not as a parse error.
    files: ['targets/espruino/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'script',
      globals: {
        exports: 'writable', module: 'writable', require: 'readonly', Modules: 'readonly',
        E: 'readonly', getTime: 'readonly', print: 'readonly', console: 'readonly', process: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setWatch: 'readonly', clearWatch: 'readonly', digitalWrite: 'readonly', digitalRead: 'readonly', pinMode: 'readonly', analogRead: 'readonly',
        Serial: 'readonly', Serial1: 'readonly', Serial2: 'readonly', Serial3: 'readonly', Serial4: 'readonly', Serial5: 'readonly', Serial6: 'readonly', USB: 'readonly', Bluetooth: 'readonly', LoopbackA: 'readonly', LoopbackB: 'readonly',
        I2C: 'readonly', I2C1: 'readonly', I2C2: 'readonly', I2C3: 'readonly', SPI: 'readonly', SPI1: 'readonly', SPI2: 'readonly', Pin: 'readonly', NRF: 'readonly', LED1: 'readonly', LED2: 'readonly', BTN: 'readonly',
        Promise: 'readonly', JSON: 'readonly', Math: 'readonly', Date: 'readonly', Error: 'readonly', ArrayBuffer: 'readonly', DataView: 'readonly',
        Uint8Array: 'readonly', Int8Array: 'readonly', Uint8ClampedArray: 'readonly', Uint16Array: 'readonly', Int16Array: 'readonly', Uint32Array: 'readonly', Int32Array: 'readonly', Float32Array: 'readonly', Float64Array: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-this-alias': 'off',
      // an unused catch (e) binding is the portable form, not a mistake
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
      'no-restricted-syntax': ['error',
        { selector: 'ObjectPattern, ArrayPattern', message: 'Espruino: no destructuring.' },
        { selector: 'SpreadElement', message: 'Espruino: no spread (use apply or a loop).' },
        { selector: 'RestElement', message: 'Espruino: no rest parameters (use arguments).' },
        { selector: 'AssignmentPattern', message: 'Espruino: no default parameter values.' },
        { selector: ':function[async=true], AwaitExpression', message: 'Espruino: no async/await (use callbacks or .then).' },
        { selector: ':function[generator=true], YieldExpression', message: 'Espruino: no generators.' },
        { selector: 'ChainExpression', message: 'Espruino: no optional chaining (?.).' },
        { selector: "LogicalExpression[operator='??']", message: 'Espruino: no ?? (kept out of the subset: test with || or === undefined).' },
        { selector: "BinaryExpression[operator='**'], AssignmentExpression[operator='**=']", message: 'Espruino: no ** (use Math.pow).' },
        { selector: "AssignmentExpression[operator=/^(\\?\\?|\\|\\||&&)=$/]", message: 'Espruino: no logical assignment (??=, ||=, &&=).' },
        { selector: 'StaticBlock, PrivateIdentifier', message: 'Espruino: no private class members (#x) or static blocks (public fields work).' },
        { selector: '[computed=true]:matches(Property, MethodDefinition, PropertyDefinition)', message: 'Espruino: no computed keys in literals and classes.' },
        { selector: 'LabeledStatement', message: 'Espruino: no labels (labelled break/continue are not parsed).' },
        { selector: 'TaggedTemplateExpression', message: 'Espruino: no tagged templates.' },
        { selector: 'MetaProperty, ImportExpression', message: 'Espruino: no new.target, import.meta or import().' },
        { selector: 'Literal[bigint]', message: 'Espruino: no BigInt.' },
        { selector: ":matches(ForStatement, ForInStatement, ForOfStatement) > VariableDeclaration[kind!='var']", message: 'Espruino: let/const in a for head is one binding for all iterations (closures see the last value): use var.' },
        { selector: 'Literal[regex.pattern=/\\(\\?/]', message: 'Espruino: no (?:...), lookaround or named groups in regular expressions (wrong results, not errors).' },
        { selector: 'Literal[regex.pattern=/\\\\[1-9]|\\{\\d/]', message: 'Espruino: no back-references or {n} quantifiers in regular expressions.' },
        { selector: 'Literal[regex.flags=/s/]', message: 'Espruino: no dotAll (s) regular expressions.' },
      ],
      'no-restricted-globals': ['error',
        ...['Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Symbol', 'Proxy', 'Reflect', 'BigInt', 'BigInt64Array', 'BigUint64Array', 'TextEncoder', 'TextDecoder', 'Intl', 'queueMicrotask', 'setImmediate', 'structuredClone', 'SharedArrayBuffer', 'Atomics', 'Buffer']
          .map((name) => ({ name, message: `Espruino: ${name} does not exist in the interpreter.` })),
      ],
      'no-restricted-properties': ['error',
        ...['Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Array'].flatMap((object) =>
          ['from', 'of'].map((property) => ({ object, property, message: `Espruino: no ${object}.${property} (use new ${object}(n) and a loop).` }))),
        ...[['Math', 'imul'], ['Math', 'trunc'], ['Math', 'clz32'], ['Math', 'log2'], ['Math', 'fround'], ['Math', 'cbrt'], ['Math', 'hypot'], ['Number', 'isInteger'], ['Number', 'isSafeInteger'], ['Number', 'isNaN'], ['Number', 'isFinite'], ['Number', 'EPSILON'], ['Number', 'MAX_SAFE_INTEGER'], ['Number', 'MIN_SAFE_INTEGER'], ['Object', 'freeze'], ['Object', 'isFrozen'], ['Object', 'seal'], ['String', 'raw'], ['String', 'fromCodePoint'], ['Promise', 'allSettled'], ['Promise', 'any'], ['Promise', 'race']]
          .map(([object, property]) => ({ object, property, message: `Espruino: ${object}.${property} does not exist in the interpreter.` })),
        ...['finally', 'flat', 'flatMap', 'copyWithin', 'findLast', 'findLastIndex', 'matchAll', 'trimStart', 'trimEnd', 'codePointAt', 'normalize']
          .map((property) => ({ property, message: `Espruino: .${property}() does not exist in the interpreter.` })),
      ],
    },
  },
  {
    // Portability rule (architecture.md §2): no Node built-ins in the portable layers.
    files: ['src/bytes/**/*.ts', 'src/noise/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'src/bytes and src/noise stay portable: Uint8Array only, no node: imports.' }] }],
      'no-restricted-globals': ['error', { name: 'Buffer', message: 'Use Uint8Array in portable layers.' }],
    },
  },
  {
    // Absence is narrowed or checked with a typed error, never asserted away (issue 14).
    files: ['src/noise/**/*.ts', 'src/channel/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'error' },
  },
)
