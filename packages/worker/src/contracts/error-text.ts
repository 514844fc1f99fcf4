// Error text is bounded wherever it enters a payload (docs/adr/0075): a handler can throw a
// message of tens of MiB, and Temporal refuses any gRPC message over 4 MiB — on the heartbeat
// that carries a claim's progress and on the activity's completion — so the claim would retry
// forever and show only WORKER_SHUTDOWN. Sandbox-safe (no imports): workflows use it for status.

/** Longest error text kept in a payload (heartbeat, completion, push answer, dead letter, status). */
export const MAX_ERROR_TEXT_CHARS = 4_096;

/**
 * `text` cut to `max` characters with its original length noted, or unchanged when it fits.
 *
 * @example truncateErrorText('x'.repeat(5000), 10) // 'xxxxxxxxxx… [truncated: 5000 characters in all]'
 */
export function truncateErrorText(text: string, max = MAX_ERROR_TEXT_CHARS): string {
  if (text.length <= max) return text;
  // Cut again (a dead letter keeps less than a report): the note keeps the first length.
  const noted = /… \[truncated: (\d+) characters in all\]$/.exec(text);
  return `${text.slice(0, max)}… [truncated: ${noted ? noted[1] : text.length} characters in all]`;
}
