/**
 * The timing loop every RPC benchmark client shares (`duct_rpc.ts`, `node_net_rpc.mjs`, and
 * vscode-jsonrpc's in `tests/peers/vscode_jsonrpc.mjs`), so that each peer is timed the same way.
 *
 * @module
 */

/**
 * Makes `count` calls, `inFlight` at once (each worker awaiting its own), `reps` times after one
 * discarded warm-up; returns the calls per second of each repetition and, with one in flight, each
 * call's time in ms.
 *
 * @example
 * ```js
 * import { timeCalls } from "./_rpc_calls.mjs";
 * const { samples } = await timeCalls(() => Promise.resolve(), 100, 10, 1);
 * console.log(samples.length); // 1
 * ```
 *
 * @param {() => Promise<unknown>} call
 * @param {number} count
 * @param {number} inFlight
 * @param {number} reps
 * @returns {Promise<{ samples: number[], latencies: number[] }>}
 */
export async function timeCalls(call, count, inFlight, reps) {
  /** @type {number[]} */
  const samples = [];
  /** @type {number[]} */
  const latencies = [];
  for (let rep = -1; rep < reps; rep++) {
    let next = 0;
    const start = performance.now();
    const worker = async () => {
      while (next < count) {
        next++;
        const sent = performance.now();
        await call();
        if (inFlight === 1 && rep >= 0) latencies.push(performance.now() - sent);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    if (rep >= 0) samples.push(count / ((performance.now() - start) / 1000));
  }
  return { samples, latencies };
}
