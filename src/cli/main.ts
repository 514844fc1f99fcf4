// The `layer` command: one program for local development, rendering, the store and the
// orchestrator roles. Each sub-command lives in src/cli/commands and registers itself here.
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../util/package-info.js';
import { registerDevCommands } from './commands/dev.js';
import { registerStartCommand } from './commands/start.js';
import { registerRenderCommands } from './commands/render.js';
import { registerStoreCommands } from './commands/store.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerFunctionCommands } from './commands/function.js';
import { registerPipelineCommands } from './commands/pipeline.js';
import { registerOrchestratorCommand } from './commands/orchestrator.js';
import { registerOperatorCommand } from './commands/operator.js';
import { formatCliError } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('layer')
    .description('hev layer orchestrator: Functions and Pipelines as durable Temporal workflows')
    .version(packageVersion(), '-v, --version', 'print the layer version')
    .showHelpAfterError('(run layer --help for usage)');
  registerStartCommand(program);
  registerDevCommands(program);
  registerRenderCommands(program);
  registerStoreCommands(program);
  registerApplyCommand(program);
  registerFunctionCommands(program);
  registerPipelineCommands(program);
  registerOrchestratorCommand(program);
  registerOperatorCommand(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram().exitOverride();
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
