// Runs every project's Jest suite in one process tree: the library specs,
// then the end-to-end suite once per transport. The end-to-end suites need
// the apps built first (`npm test` does) and, for NATS, RabbitMQ and Redis,
// the brokers on 127.0.0.1 (`.ci/run` starts any that are down).
export default {
  // Run through this file, the end-to-end suites got Jest's default 5 s
  // despite the 60 s in e2eConfig, so the timeout is set here as well.
  testTimeout: 60_000,
  projects: [
    '<rootDir>/libs/contracts',
    '<rootDir>/libs/persistence',
    '<rootDir>/libs/user-context',
    '<rootDir>/apps/gateway',
    '<rootDir>/libs/user-context/jest.package.config.ts',
    '<rootDir>/tools/workspace-checks',
    '<rootDir>/tools/nx-plugin',
    '<rootDir>/e2e/jest.tcp.config.ts',
    '<rootDir>/e2e/jest.nats.config.ts',
    '<rootDir>/e2e/jest.rmq.config.ts',
    '<rootDir>/e2e/jest.redis.config.ts',
    '<rootDir>/e2e/jest.grpc.config.ts',
  ],
};
