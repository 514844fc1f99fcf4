// The `layer` command: one program for local development, rendering, the store and the
// orchestrator roles. Each sub-command lives in src/cli/commands and registers itself here.
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../util/package-info.js';
import { formatCliError } from './errors.js';

/**
 * The program. Command modules are imported on demand: `layer store …` loads only the store's,
 * because a store process holding a large namespace should not also carry the Temporal and
 * Kubernetes clients it never uses (about 180 MB of RSS when run from source; see
 * docs/adr/0044-disk-backed-rows.md).
 */
export async function buildProgram(only?: 'store'): Promise<Command> {
  const program = new Command('layer')
    .description('hev layer orchestrator: Functions and Pipelines as durable Temporal workflows')
    .version(packageVersion(), '-v, --version', 'print the layer version')
    .showHelpAfterError('(run layer --help for usage)');
  if (only === 'store') {
    (await import('./commands/store.js')).registerStoreCommands(program);
    return program;
  }
  const [start, dev, render, store, apply, fn, pipeline, orchestrator, operator] = await Promise.all([
    import('./commands/start.js'),
    import('./commands/dev.js'),
    import('./commands/render.js'),
    import('./commands/store.js'),
    import('./commands/apply.js'),
    import('./commands/function.js'),
    import('./commands/pipeline.js'),
    import('./commands/orchestrator.js'),
    import('./commands/operator.js'),
  ]);
  start.registerStartCommand(program);
  dev.registerDevCommands(program);
  render.registerRenderCommands(program);
  store.registerStoreCommands(program);
  apply.registerApplyCommand(program);
  fn.registerFunctionCommands(program);
  pipeline.registerPipelineCommands(program);
  orchestrator.registerOrchestratorCommand(program);
  operator.registerOperatorCommand(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = (await buildProgram(argv[2] === 'store' ? 'store' : undefined)).exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(formatCliError(err) + '\n');
    process.exitCode = 1;
  }
}

await main();
