// Per-project testTimeout is ignored by jest, so each tier sets its timeout in a setup file.
// Three tiers, chosen by file name: *.spec.ts (unit), *.int.spec.ts (real infrastructure), *.e2e.spec.ts (through the gateway).
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        target: 'es2023',
        transform: { legacyDecorator: true, decoratorMetadata: false },
      },
    },
  ],
};
const roots = [
  '<rootDir>/packages',
  '<rootDir>/services',
  '<rootDir>/gateway',
  '<rootDir>/examples',
  '<rootDir>/test',
];
const common = { transform, roots, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: ['\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$', '/node_modules/'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.int.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup/integration.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['**/*.e2e.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup/e2e.ts'],
    },
  ],
};
