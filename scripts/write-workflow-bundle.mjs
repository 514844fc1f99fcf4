// `npm run build`'s last step: bundles the compiled workflows once, into dist/workflow-bundle.js,
// so a build never runs webpack at start-up (src/workers/orchestrator-worker.ts,
// docs/adr/0107). Plain JavaScript over dist/: the build stage has no tsx requirement.
import { rmSync, writeFileSync } from 'node:fs';
import process from 'node:process';

const worker = await import('../dist/src/workers/orchestrator-worker.js');
// Never leave a previous build's bundle behind if this one fails.
rmSync(worker.PREBUILT_WORKFLOW_BUNDLE, { force: true });
const bundle = await worker.buildOrchestratorWorkflowBundle();
writeFileSync(worker.PREBUILT_WORKFLOW_BUNDLE, bundle.code);
process.stdout.write(
  `workflow bundle: ${worker.PREBUILT_WORKFLOW_BUNDLE} (${Math.round(bundle.code.length / 1024)} KiB)\n`,
);
