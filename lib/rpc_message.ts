/**
 * The shapes of JSON-RPC 2.0 messages as `RpcPeer` receives them, checked without recursion (a
 * deeply nested `params` is never walked), and the counting semaphore that bounds its requests
 * and handlers.
 *
 * @module
 */

import { DuctError } from "./errors.ts";
import { INTERNAL_ERROR, RpcError } from "./rpc_errors.ts";

/** A request id: the spec allows a string, a number or `null`. */
export type Id = string | number | null;

/** A received message, classified. */
export type Incoming =
  | { kind: "request"; id: Id; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response"; id: Id; value: Record<string, unknown> }
  | { kind: "invalid"; id: Id; reason: string };

/**
 * Classifies one parsed message (an element of a batch, or a whole message). Anything that is
 * neither a valid request, notification nor response is `invalid`, with the request's id when
 * it had a usable one (else `null`) and the reason, for a -32600 response.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { classify } from "./rpc_message.ts";
 * assertEquals(classify({ jsonrpc: "2.0", id: 1, method: "m" }).kind, "request");
 * assertEquals(classify({ jsonrpc: "2.0", method: "m" }).kind, "notification");
 * assertEquals(classify({ jsonrpc: "2.0", id: 1, result: 2 }).kind, "response");
 * assertEquals(classify({ id: 1, method: "m" }).kind, "invalid");
 * ```
 */
export function classify(value: unknown): Incoming {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", id: null, reason: "Invalid Request: not an object" };
  }
  const message = value as Record<string, unknown>;
  const hasId = "id" in message;
  const id = hasId && isId(message.id) ? message.id : null;
  const invalid = (reason: string): Incoming => ({ kind: "invalid", id, reason });
  if (hasId && !isId(message.id)) {
    return invalid("Invalid Request: id must be a string, a number or null");
  }
  if (message.jsonrpc !== "2.0") return invalid('Invalid Request: jsonrpc must be "2.0"');
  if ("method" in message) {
    if (typeof message.method !== "string") {
      return invalid("Invalid Request: method must be a string");
    }
    const params = message.params;
    if (params !== undefined && (typeof params !== "object" || params === null)) {
      return invalid("Invalid Request: params must be an array or an object");
    }
    if (!hasId) return { kind: "notification", method: message.method, params };
    return { kind: "request", id, method: message.method, params };
  }
  if (hasId && ("result" in message) !== ("error" in message)) {
    return { kind: "response", id, value: message };
  }
  return invalid("Invalid Request: neither a request (method) nor a response (result or error)");
}

function isId(value: unknown): value is Id {
  return value === null || typeof value === "string" ||
    (typeof value === "number" && Number.isFinite(value));
}

/**
 * A counting semaphore: `acquire` waits, in call order, while `limit` holders have not
 * released; `fail` rejects every waiter and every later `acquire`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Slots } from "./rpc_message.ts";
 * const slots = new Slots(1);
 * await slots.acquire();
 * let second = false;
 * const waiting = slots.acquire().then(() => second = true);
 * assertEquals(second, false);
 * slots.release();
 * await waiting;
 * assertEquals(second, true);
 * ```
 */
export class Slots {
  readonly #limit: number;
  #used = 0;
  #waiters: PromiseWithResolvers<void>[] = [];
  #head = 0;
  #failure: unknown;

  /** At most `limit` holders at once. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Resolves once a slot is this caller's. */
  acquire(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#used < this.#limit && this.#head === this.#waiters.length) {
      this.#used++;
      return Promise.resolve();
    }
    const waiter = Promise.withResolvers<void>();
    this.#waiters.push(waiter);
    return waiter.promise;
  }

  /** Takes a slot at once if one is free and nobody waits: no promise, as most calls can. */
  tryAcquire(): boolean {
    if (this.#failure !== undefined || this.#used >= this.#limit) return false;
    if (this.#head !== this.#waiters.length) return false;
    this.#used++;
    return true;
  }

  /** Gives a slot back, to the longest waiter if any. */
  release(): void {
    if (this.#head < this.#waiters.length) {
      const next = this.#waiters[this.#head++];
      if (this.#head === this.#waiters.length) {
        this.#waiters = [];
        this.#head = 0;
      }
      next.resolve();
      return;
    }
    if (this.#used > 0) this.#used--;
  }

  /** Rejects every waiter and every later `acquire` with `error`. */
  fail(error: unknown): void {
    this.#failure ??= error;
    for (let i = this.#head; i < this.#waiters.length; i++) this.#waiters[i].reject(error);
    this.#waiters = [];
    this.#head = 0;
  }
}

// Helpers of `RpcPeer`: a request, an error response, errors as RPC or duct errors.

export function message(id: number, method: string, params: unknown): Record<string, unknown> {
  const request: Record<string, unknown> = { jsonrpc: "2.0", id, method };
  if (params !== undefined) request.params = params;
  return request;
}

export function failure(id: Id, error: RpcError): Record<string, unknown> {
  return { jsonrpc: "2.0", id, error: error.toJSON() };
}

export function asRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  return new RpcError(INTERNAL_ERROR, error instanceof Error ? error.message : String(error));
}

export function asDuct(error: unknown, action: string): DuctError {
  if (error instanceof DuctError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DuctError(`${action}: ${detail}`, { cause: error });
}
