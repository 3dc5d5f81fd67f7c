import type { Config } from 'jest';

const config: Config = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // Integration and e2e suites start real servers and child processes; two cores, so keep it modest.
  maxWorkers: 2,
  // A worker that has grown past this after a suite is replaced by a fresh one. Heaps grew to 600–900 MB
  // over the run, and tearing one down at the end took longer than jest's 500 ms under load ("A worker
  // process has failed to exit gracefully"); no handle was left open (measured at each worker's end).
  workerIdleMemoryLimit: '400MB',
  testTimeout: 30_000,
  // A fresh PostgreSQL database per run for the PostgreSQL suites, dropped at the end.
  globalSetup: '<rootDir>/tests/global-setup.ts',
  globalTeardown: '<rootDir>/tests/global-teardown.ts',
  // Every response the suites receive through supertest is checked against the OpenAPI document.
  setupFilesAfterEnv: ['<rootDir>/tests/support/openapi-check.ts'],
};

export default config;
