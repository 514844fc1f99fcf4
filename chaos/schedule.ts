// The chaos run's fault schedule: one target at a time — a worker, the orchestrator, the store,
// the Temporal server or a cluster host, PostgreSQL's connections — killed on a seeded schedule
// and started again.
import { terminateConnections } from '../src/dev/temporal-cluster-pg.js';
import { startStore, startTemporal, waitForStore, type Cluster } from './processes.js';
import { KILL_EVERY_S, log, sleep } from './settings.js';

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Kills one target at a time, on a seeded schedule, until stopped; every kill is restarted. */
export function startKilling(c: Cluster, random: () => number): { stop(): Promise<void> } {
  let running = true;
  const temporalTargets = c.tcluster
    ? [...c.tcluster.hosts.map((h) => `temporal-${h.name}`), 'postgres-connections']
    : ['temporal'];
  const targets = [...c.starters.keys(), 'store', ...temporalTargets];
  let round: string[] = [];
  const loop = (async () => {
    while (running) {
      await sleep(KILL_EVERY_S * 1000 * (0.5 + random()));
      if (!running) break;
      // Every target once per round, in a seeded order, so no process escapes the schedule.
      if (round.length === 0) round = shuffled(targets, random);
      const target = round.pop()!;
      const host = c.tcluster?.hosts.find((h) => target === `temporal-${h.name}`);
      // A Temporal server host stays down 1–10 s (issue 22); everything else 0.5–5 s.
      const downMs = host ? 1_000 + Math.floor(random() * 9_000) : 500 + Math.floor(random() * 4_500);
      c.kills += 1;
      if (target === 'postgres-connections') {
        const ended = await terminateConnections(c.tcluster!.postgres, [
          c.tcluster!.database,
          c.tcluster!.visibilityDatabase,
        ]).catch((err: Error) => {
          log(`pg_terminate_backend failed: ${err.message}`);
          return 0;
        });
        c.pgResets += 1;
        log(`kill #${c.kills}: reset ${ended} PostgreSQL connections to ${c.tcluster!.database}*`);
        continue;
      }
      log(`kill #${c.kills}: ${target} (back in ${downMs} ms)`);
      c.restarting.add(target);
      try {
        if (host) {
          await host.kill('SIGKILL');
          await sleep(downMs);
          await host.restart();
        } else if (target === 'temporal') {
          await c.temporal.stop();
          await sleep(downMs);
          c.temporal = await startTemporal(c.dir, c.temporalPorts);
        } else if (target === 'store') {
          process.kill(c.store.pid, 'SIGKILL');
          await sleep(downMs);
          c.store = startStore(c.dir, c.storePort);
          await waitForStore(c.direct, c.store);
        } else {
          process.kill(c.procs.get(target)!.pid, 'SIGKILL');
          await sleep(downMs);
          c.procs.set(target, c.starters.get(target)!());
        }
      } catch (err) {
        log(`restarting ${target} failed: ${(err as Error).message}`);
        throw err;
      } finally {
        c.restarting.delete(target);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
