import { runProcess } from './run-process';

/** Entry point (dist/main.js): the service from its environment (src/run-process.ts). */
runProcess().catch((error: unknown) => {
  process.stderr.write(`gitops-rollback-webhook failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
