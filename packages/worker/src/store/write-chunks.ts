// Cutting the engine's writes by bytes as well as rows (docs/adr/0112): a batch of 10,000 rows
// of 8 MiB outputs would be an 80 GB request, far past the service's 512 MB. Pure.

/**
 * Estimated JSON size of `value` (UTF-8 bytes of strings and keys plus quotes and separators),
 * counting stops once past `limit`. Escapes (`\n`, `\u0001`) are under-counted, by at most 6×.
 */
export function jsonBytesUpTo(value: unknown, limit = Infinity): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') size += Buffer.byteLength(v, 'utf8') + 2;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        size += Buffer.byteLength(k, 'utf8') + 4;
        stack.push(item);
      }
    } else size += String(v).length;
    if (size > limit) return size;
  }
  return size;
}

/**
 * `items` in order, cut into runs whose estimated sizes add up to at most `budget` bytes (an
 * item larger than the budget goes alone) and that hold at most `maxItems` items.
 *
 * @example chunkByBytes(rows, (r) => jsonBytesUpTo(r), 32 * 1024 * 1024)
 */
export function chunkByBytes<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  budget: number,
  maxItems = Infinity,
): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (run.length > 0 && (bytes + size > budget || run.length >= maxItems)) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) out.push(run);
  return out;
}
