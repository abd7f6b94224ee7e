import { pathsToModuleNameMapper } from 'ts-jest';

const { compilerOptions } = require('../tsconfig.base.json');

/** Transports on which replicas of a service split its messages. */
const SCALE_OUT_TRANSPORTS = ['nats', 'rmq'];

/**
 * Builds the Jest config of the end-to-end suite on one transport. Suites start the built apps
 * (dist/apps/*) as real processes on free loopback ports, so build them
 * first (`npm test` does). The root jest.config.ts runs the suite once per
 * transport through jest.<transport>.config.ts; this file alone runs it on
 * `E2E_TRANSPORT`, or TCP.
 */
export function e2eConfig(transport: string) {
  return {
    displayName: `e2e-${transport}`,
    preset: '../jest.preset.js',
    rootDir: '.',
    moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, {
      prefix: '<rootDir>/../',
    }),
    testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
    testPathIgnorePatterns: [
      // Replicas share work only through a broker's queue group or shared queue.
      ...(SCALE_OUT_TRANSPORTS.includes(transport) ? [] : ['scale-out']),
      // Token checks happen in the gateway before any transport is used, so they run on TCP only.
      ...(transport === 'tcp' ? [] : ['identity-provider']),
    ],
    testTimeout: 60_000,
    // Read by e2eTransport() in src/support/transport.ts.
    globals: { E2E_TRANSPORT: transport },
  };
}

export default e2eConfig(process.env.E2E_TRANSPORT || 'tcp');
