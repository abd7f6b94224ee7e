import { pathsToModuleNameMapper } from 'ts-jest';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { compilerOptions } = require('../tsconfig.base.json');

// End-to-end suites start the built apps (dist/apps/*) as real processes on
// free loopback ports; build them first (`npm test` does).
export default {
  displayName: 'e2e',
  preset: '../jest.preset.js',
  rootDir: '.',
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/../' }),
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testTimeout: 60_000,
};
