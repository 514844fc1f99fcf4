// Keeps a durable store's heap near what it really holds. V8 grows the old generation
// generously while allocation is fast, and a store ingesting 10k-row requests allocates fast:
// each request's parsed body, converted rows and log line survive the fsync await, get promoted
// and then die, so without this the heap carried several hundred MB of dead requests between
// major GCs (peak RSS 706 MB in bench:store at 1M rows, of which ~100 MB were live). After a
// request, when the heap has grown by more than `budget` past what the last collection left
// live, this runs a full collection. The budget scales with the live heap, so a big namespace
// (whose id index is live data) is not collected over and over. See docs/adr/0044-disk-backed-rows.md.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface HeapGovernor {
  /** Call after each request; collects when the heap outgrew its budget. */
  check(): void;
  readonly collections: number;
}

/** `minBudget`: bytes of garbage tolerated above the live heap (at least; half the live heap if larger). */
export function createHeapGovernor(minBudget = 64 * 1024 * 1024): HeapGovernor {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    // Exposes V8's collector without requiring `node --expose-gc` on every command line.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  const collect = gc;
  let live = getHeapStatistics().used_heap_size;
  let collections = 0;
  return {
    check(): void {
      const used = getHeapStatistics().used_heap_size;
      if (used - live <= Math.max(minBudget, live / 2)) return;
      collect();
      collections++;
      live = getHeapStatistics().used_heap_size;
    },
    get collections() {
      return collections;
    },
  };
}
