// The configuration of a `layer` command run by a person: the environment, with a running
// `layer dev up` environment's servers as the defaults (src/config.ts itself knows nothing of dev).
import { loadConfig, type Config } from '../config.js';
import { readDevState, type DevState } from '../dev/environment.js';
import { devStateDir } from '../dev/paths.js';

/**
 * @example
 * const config = loadCliConfig(); // TEMPORAL_ADDRESS, else the dev env's, else localhost:7233
 */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig(env, { devState: readDevStateSafely(devStateDir(env)) });
}

/** A corrupt state file must not stop commands that do not need the dev env. */
function readDevStateSafely(stateDir: string): DevState | undefined {
  try {
    return readDevState(stateDir);
  } catch {
    return undefined;
  }
}
