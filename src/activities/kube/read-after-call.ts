// One read shared by every caller that asks while it is pending, never one begun before the
// caller asked. Reconcile passes in a burst each list the Functions not labelled yet (ADR 0114):
// the same list, which in a burst of N new Functions is up to N objects, held by up to a Worker's
// whole activity concurrency at once. A pass needs a list begun after its own label patch (so it
// sees every write before it); any list begun later serves it as well as its own would.

/**
 * `read`, wrapped: each call resolves with the result of a `read` that started after the call —
 * the one in flight if none is (a new one starts), else the next one, shared by every call made
 * while the current one runs. A failed read fails the calls it served; the next call starts anew.
 */
export function readAfterCall<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let next: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const p = read().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };
  return () => {
    if (!running) return start();
    // The read in flight began before this call and may miss what the caller just wrote.
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return start();
      });
    return next;
  };
}
