/**
 * The wait-and-retry loop both transports use while a server is absent or busy.
 *
 * Not `@std/async`'s `retry`: that one retries when the call throws, up to a number of attempts;
 * here an error ends the loop at once (a refused permission is no reason to wait), "not yet" is a
 * result, and the limit is a time, with an `AbortSignal`. Nor its `delay` for the sleep below:
 * `lib/` imports nothing outside itself, so that a program can import it by path or URL with no
 * import map (`tests/readme_test.ts` does).
 *
 * @module
 */

/** First delay between attempts, doubled after each one up to {@linkcode RETRY_MAX_MS}. */
export const RETRY_FIRST_MS = 10;
/** Longest delay between attempts: a server that appears is found within this. */
export const RETRY_MAX_MS = 200;

/** Options of {@linkcode retryUntil}. */
export interface RetryOptions {
  /** Milliseconds after which no further attempt is made. */
  timeout: number;
  /** Stops waiting early, rejecting with the signal's reason. */
  signal?: AbortSignal;
  /** The error to throw once the time is up. */
  timedOut: () => Error;
}

/**
 * Calls `attempt` until it resolves to something other than `undefined` (which means "not yet,
 * try again"), backing off between attempts, and throws `timedOut()` once `timeout` has passed.
 * Errors thrown by `attempt` end the loop at once.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { retryUntil } from "./retry.ts";
 * let calls = 0;
 * const value = await retryUntil(() => Promise.resolve(++calls < 3 ? undefined : calls), {
 *   timeout: 1000,
 *   timedOut: () => new Error("gave up"),
 * });
 * assertEquals(value, 3);
 * ```
 */
export async function retryUntil<T>(
  attempt: () => Promise<T | undefined>,
  options: RetryOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeout;
  let delay = RETRY_FIRST_MS;
  for (;;) {
    options.signal?.throwIfAborted();
    const result = await attempt();
    if (result !== undefined) return result;
    const left = deadline - Date.now();
    if (left <= 0) throw options.timedOut();
    await sleep(Math.min(delay, left), options.signal);
    delay = Math.min(delay * 2, RETRY_MAX_MS);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }, ms);
    function aborted() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
