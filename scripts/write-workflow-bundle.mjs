// `npm run build`'s last step: bundles the compiled workflows once, into dist/workflow-bundle.js,
// so a build never runs webpack at start-up (src/workers/orchestrator-worker.ts,
// docs/adr/0107). Plain JavaScript over dist/: the build stage has no tsx requirement.
import { rmSync, writeFileSync } from 'node:fs';
import process from 'node:process';

const worker = await import('../dist/src/workers/orchestrator-worker.js');
// The orchestrator's bundle, and the reconcile Worker's (the reconcile workflow alone, ADR 0115).
for (const [file, entry] of [
  [worker.PREBUILT_WORKFLOW_BUNDLE, worker.WORKFLOWS_ENTRY],
  [worker.PREBUILT_RECONCILE_BUNDLE, worker.RECONCILE_WORKFLOWS_ENTRY],
]) {
  // Never leave a previous build's bundle behind if this one fails.
  rmSync(file, { force: true });
  const bundle = await worker.buildOrchestratorWorkflowBundle(entry);
  writeFileSync(file, bundle.code);
  process.stdout.write(`workflow bundle: ${file} (${Math.round(bundle.code.length / 1024)} KiB)\n`);
}
