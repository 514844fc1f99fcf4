import type { Command } from 'commander';

/** `layer store serve|seed` (filled in by the embedded store work). */
export function registerStoreCommands(_program: Command): void {}
