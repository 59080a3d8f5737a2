/**
 * A watchdog for answers that stop coming: shared by the {@linkcode ReliableSender} and the
 * client's `--reply-timeout`. Internal: not exported from `mod.ts`.
 *
 * @module
 */

/** What {@linkcode watchStalls} watches. */
export interface StallWatchOptions {
  /** How long answers may stop while some are owed, in milliseconds (0: for ever). */
  timeout: number;
  /** A count that grows with every answer (replies received). */
  progress: () => number;
  /** Whether answers are owed now (messages sent and not yet answered). */
  owed: () => boolean;
  /** Called once, when answers were owed and none came for `timeout`. */
  onStall: () => void;
}

/**
 * Calls `onStall` once answers have been owed for `timeout` milliseconds with none arriving;
 * returns the function that stops watching. The check runs a few times per `timeout` rather
 * than a timer per answer, so it costs nothing per message; a stall is noticed between
 * `timeout` and 1.25 × `timeout` after it began. The timer does not keep the program alive.
 *
 * @example
 * ```ts
 * import { watchStalls } from "./stall_watch.ts";
 * let replies = 0;
 * const stop = watchStalls({
 *   timeout: 5000,
 *   progress: () => replies,
 *   owed: () => false,
 *   onStall: () => console.log("no answer for 5 s"),
 * });
 * replies++;
 * stop();
 * ```
 */
export function watchStalls(options: StallWatchOptions): () => void {
  const { timeout, progress, owed, onStall } = options;
  if (timeout <= 0) return () => {};
  let seen = progress();
  let since = Date.now();
  let wasOwed = owed();
  const id = setInterval(() => {
    const now = Date.now();
    const count = progress();
    const isOwed = owed();
    // A stall is timed from the first check that saw it, never from before it began: the
    // timeout may come a quarter late, never early.
    if (count !== seen || !isOwed || !wasOwed) {
      seen = count;
      since = now;
      wasOwed = isOwed;
      return;
    }
    if (now - since >= timeout) {
      clearInterval(id);
      onStall();
    }
  }, Math.max(1, Math.floor(timeout / 4)));
  Deno.unrefTimer(id);
  return () => clearInterval(id);
}
