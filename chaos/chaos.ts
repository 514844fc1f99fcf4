// `npm run chaos`: proves "nothing lost" under every fault at once. One invocation runs the same
// work twice on real servers — first without faults (for the time ratio), then with them:
//   - a Function over --rows rows (default 100,000) whose spec changes to a new output version
//     mid-run, with known poison rows (a handler that always throws, one wrong-dimension output);
//   - a Pipeline over --docs documents (default 5,000), a tenth of them revised mid-run.
// Faults, on a seeded schedule for the whole faulty phase: SIGKILL of the orchestrator process and
// of each worker process (restarted after a random delay), SIGKILL + restart of the embedded store
// (`--data`), a restart of the Temporal dev server on its SQLite file (`--db-filename`), and a fault
// proxy in front of the store injecting 429 + Retry-After, 500s (before and after the write),
// connection resets and 2–10 s stalls at --fault-rate.
// The verdict compares values: every non-poison row carries exactly the value the handler
// computes at the final version, dead letters are exactly the poison rows with their error type,
// the proxy's write log shows no row written at a lower version after a higher one, and every
// Pipeline document has exactly its current chunks. Exits non-zero on any difference. The last
// line is JSON. Re-run a failing schedule with --seed.
//
// With --temporal cluster the run is on the production-shaped Temporal cluster (two temporal-server
// processes on PostgreSQL, src/dev/temporal-cluster.ts) instead of the dev server, and the schedule's
// Temporal faults become SIGKILL of one server process (started again after 1–10 s) and a
// PostgreSQL connection reset (pg_terminate_backend on every connection to the cluster's databases).
//
// With --store-lag the store runs the lag profile (src/store/lag-profile.ts, ADR 0098): writes past
// a small outstanding-write budget stay invisible until a slow indexer reaches them, and a store
// restart makes everything visible again (the model's state is not durable; its writes are). The
// seed is waited on until indexed, and the verdict reads once the Function's writes are; the JSON
// line gains `store_lag: true`.
//
// Every run counts the rows the Function's handler computed more than once at the same version
// (`duplicate_handler_calls`; call-log.ts): the verdict does not depend on it — kills and injected
// faults force some recomputation — but under --store-lag it shows whether discovery handed out
// rows the store did not show yet (docs/adr/0110).
//
// Usage: npm run chaos [-- --seed N] [--rows N] [--docs N] [--fault-rate R] [--kill-every-s S]
//                      [--timeout-min M] [--skip-fault-free] [--temporal dev|cluster] [--store-lag]
//
// The run is split by concern: settings.ts (flags), processes.ts (servers, processes, watchdog),
// schedule.ts (the kills), phase.ts (the work), verdict.ts (the comparison); this file runs the
// phases and prints the report and the JSON line.
import { rmSync } from 'node:fs';
import { loadText } from '../bench/harness.js';
import { runPhase } from './phase.js';
import { startCluster, startWatchdog, stopCluster, waitForPollers } from './processes.js';
import {
  DOCS,
  FAULT_RATE,
  KILL_EVERY_S,
  log,
  REVISED_DOCS,
  ROWS,
  SEED,
  SKIP_FAULT_FREE,
  STORE_LAG,
  TEMPORAL_KIND,
} from './settings.js';
import { passed } from './verdict.js';
import { isThrowingPoison, poisonIds } from './work.js';

const poisonCheck = poisonIds(ROWS);
log(
  `seed ${SEED}: ${ROWS} rows (${poisonCheck.length} poison: ${poisonCheck.filter((id) => isThrowingPoison(id, ROWS)).length} throwing, ` +
    `1 wrong dimension), ${DOCS} documents (${REVISED_DOCS} revised), fault rate ${FAULT_RATE}, a kill every ~${KILL_EVERY_S} s; ` +
    `load average ${loadText(' ')}`,
);
const cluster = await startCluster();
const watchdog = startWatchdog(cluster);
let exitCode = 1;
try {
  await waitForPollers(cluster);
  log('every process is polling');
  const faultFree = SKIP_FAULT_FREE ? undefined : await runPhase(cluster, 'calm', false);
  if (faultFree && !passed(faultFree)) log(`fault-free phase FAILED: ${faultFree.problems.join('; ')}`);
  const chaos = await runPhase(cluster, 'chaos', true);
  const faults = cluster.proxy.faults;
  const faultsInjected =
    faults.quota + faults['error-before'] + faults['error-after'] + faults.reset + faults.stall;
  const ok = passed(chaos) && (!faultFree || passed(faultFree));
  for (const p of chaos.problems) log(`problem: ${p}`);
  process.stdout.write(
    [
      `seed:                ${SEED}`,
      `fault-free:          ${faultFree ? `${faultFree.seconds.toFixed(1)} s` : 'skipped'}`,
      `with faults:         ${chaos.seconds.toFixed(1)} s (${faultFree ? (chaos.seconds / faultFree.seconds).toFixed(2) : '-'}×)`,
      `proxy faults:        ${faultsInjected} of ${faultsInjected + faults.none} store requests (429 ${faults.quota}, 500 before ${faults['error-before']}, 500 after ${faults['error-after']}, reset ${faults.reset}, stall ${faults.stall})`,
      `process kills:       ${cluster.kills} (${cluster.pgResets} of them PostgreSQL connection resets; and ${cluster.restarts} restarts of processes that ended on their own)`,
      `temporal:            ${cluster.tcluster ? `cluster of ${cluster.tcluster.hosts.length} hosts on PostgreSQL` : 'dev server'}`,
      `rows:                ${chaos.rows}: ${chaos.rows_wrong} wrong, ${chaos.rows_missing} missing, ${chaos.regressions} regressions`,
      `dead letters:        ${chaos.dead_letters_actual} of ${chaos.dead_letters_expected} expected (${chaos.dead_letters_wrong} wrong)`,
      `documents:           ${chaos.docs}: ${chaos.docs_wrong} wrong`,
      `handler calls:       ${chaos.handler_calls} rows, ${chaos.duplicate_handler_calls} computed again at the same version${faultFree ? ` (fault-free: ${faultFree.handler_calls} rows, ${faultFree.duplicate_handler_calls} again)` : ''}`,
      `load average:        ${loadText(' ')}`,
      `verdict:             ${ok ? 'PASS' : 'FAIL'}`,
      '',
    ].join('\n'),
  );
  process.stdout.write(
    `${JSON.stringify({
      seed: SEED,
      ...(STORE_LAG ? { store_lag: true } : {}),
      faults_injected: faultsInjected,
      kills: cluster.kills,
      postgres_resets: cluster.pgResets,
      temporal: TEMPORAL_KIND,
      restarts: cluster.restarts,
      rows: chaos.rows,
      rows_wrong: chaos.rows_wrong,
      rows_missing: chaos.rows_missing,
      dead_letters_expected: chaos.dead_letters_expected,
      dead_letters_actual: chaos.dead_letters_actual,
      regressions: chaos.regressions,
      docs: chaos.docs,
      docs_wrong: chaos.docs_wrong,
      handler_calls: chaos.handler_calls,
      duplicate_handler_calls: chaos.duplicate_handler_calls,
      duplicate_handler_calls_fault_free: faultFree ? faultFree.duplicate_handler_calls : null,
      seconds: Math.round(chaos.seconds * 10) / 10,
      seconds_fault_free: faultFree ? Math.round(faultFree.seconds * 10) / 10 : null,
      passed: ok,
    })}\n`,
  );
  exitCode = ok ? 0 : 1;
} catch (err) {
  log(`chaos run aborted: ${(err as Error).stack ?? String(err)}`);
  log(`logs kept in ${cluster.dir}`);
} finally {
  watchdog.stop();
  await stopCluster(cluster).catch(() => undefined);
  if (exitCode === 0) rmSync(cluster.dir, { recursive: true, force: true });
}
process.exit(exitCode);
