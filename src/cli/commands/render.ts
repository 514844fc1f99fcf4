import type { Command } from 'commander';

/** `layer render` and `layer gen-crds` (filled in by the CRD API work). */
export function registerRenderCommands(_program: Command): void {}
