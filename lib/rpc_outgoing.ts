/**
 * A request `RpcPeer` has sent and awaits the response of: its promise, and the `signal` and
 * `timeout` that may cancel it first.
 *
 * @module
 */

/**
 * One outgoing request: {@linkcode Outgoing.promise} settles with its response or its failure;
 * {@linkcode Outgoing.watch} calls back when its `signal` aborts or its `timeout` runs out.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Outgoing } from "./rpc_outgoing.ts";
 * const call = new Outgoing("sleep");
 * const reasons: string[] = [];
 * call.watch(undefined, 1, (reason) => reasons.push(reason));
 * await new Promise((resolve) => setTimeout(resolve, 20));
 * assertEquals(reasons, ["no response within 1 ms"]);
 * call.unwatch();
 * ```
 */
export class Outgoing {
  /** The method called, for messages. */
  readonly method: string;
  /** Settles with the result, or rejects with the error. */
  readonly promise: Promise<unknown>;
  /** Settles {@linkcode Outgoing.promise} with the result. */
  readonly resolve: (result: unknown) => void;
  /** Rejects {@linkcode Outgoing.promise}. */
  readonly reject: (error: unknown) => void;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** A request of `method`, not yet settled. */
  constructor(method: string) {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.method = method;
    this.promise = promise;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** Calls `cancel` with the reason once `signal` aborts or `timeout` ms pass, until unwatched. */
  watch(
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    cancel: (reason: string) => void,
  ): void {
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => cancel(`cancelled (${String(signal.reason)})`);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (timeout !== undefined) {
      this.#timer = setTimeout(() => cancel(`no response within ${timeout} ms`), timeout);
    }
  }

  /** Stops watching (the request is settled). */
  unwatch(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#onAbort !== undefined) this.#signal!.removeEventListener("abort", this.#onAbort);
  }
}
