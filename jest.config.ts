import type { Config } from 'jest';

const config: Config = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // Integration and e2e suites start real servers and child processes; two cores, so keep it modest.
  maxWorkers: 2,
  testTimeout: 30_000,
  // A fresh PostgreSQL database per run for the PostgreSQL suites, dropped at the end.
  globalSetup: '<rootDir>/tests/global-setup.ts',
  globalTeardown: '<rootDir>/tests/global-teardown.ts',
  // Every response the suites receive through supertest is checked against the OpenAPI document.
  setupFilesAfterEnv: ['<rootDir>/tests/support/openapi-check.ts'],
};

export default config;
