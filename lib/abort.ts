/**
 * Waiting with an `AbortSignal`: what `Connection.receive({ signal })` needs to stop waiting
 * without stopping the read it waits for.
 *
 * @module
 */

/** Options of {@linkcode Connection.receive}. */
export interface ReceiveOptions {
  /**
   * Stops waiting once aborted: the promise rejects with the signal's reason (`TimeoutError` for
   * `AbortSignal.timeout(ms)`). Nothing is lost: the bytes already read stay buffered, and the
   * next `receive` returns the frame they begin, whole. The connection stays open.
   */
  signal?: AbortSignal;
}

/** Thrown inside a wait that its signal aborted, to leave it without failing. */
export const ABORTED = Symbol("aborted");

// Resolves `true` if `signal` aborts before `reading` settles, else `false` once it has.
export function untilAborted(reading: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const abort = () => resolve(true);
    signal.addEventListener("abort", abort, { once: true });
    const settled = () => {
      signal.removeEventListener("abort", abort);
      resolve(false);
    };
    reading.then(settled, settled);
  });
}
