import type { Command } from 'commander';
import { devUp, endpointsOf } from '../../dev/environment.js';
import { devStateDir } from '../../dev/paths.js';

/**
 * `layer start` (what `npm start` runs): the main job on embedded defaults. Until the Function
 * engine lands it brings up the local environment and says what is coming.
 */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the demo on embedded defaults (local Temporal, store and a sample Function)')
    .option('--state-dir <dir>', 'where state, data and logs live', devStateDir())
    .action(async (opts: { stateDir: string }) => {
      const state = await devUp({
        stateDir: opts.stateDir,
        kube: false,
        log: (l) => process.stderr.write(`${l}\n`),
      });
      const e = endpointsOf(state, opts.stateDir);
      process.stdout.write(
        `Local environment is up. Temporal ${e.temporalAddress}, UI ${e.temporalUiUrl}.\n`,
      );
    });
}
