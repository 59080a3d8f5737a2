/**
 * JSON-RPC 2.0's error codes and {@linkcode RpcError}, the error a request rejects with when the
 * peer answers with an error (or when it is cancelled), and the error a handler throws to answer
 * with a code of its choice.
 *
 * @module
 */

import { DuctError } from "./errors.ts";

/** Invalid JSON was received: the response's `id` is `null` (the request's could not be read). */
export const PARSE_ERROR: number = -32700;
/** The JSON is not a valid request object (no `jsonrpc: "2.0"`, a bad `method` or `id`…). */
export const INVALID_REQUEST: number = -32600;
/** No handler for the method, and no fallback. */
export const METHOD_NOT_FOUND: number = -32601;
/** Invalid method parameters: for handlers to throw. */
export const INVALID_PARAMS: number = -32602;
/** The handler failed with something other than an {@linkcode RpcError}. */
export const INTERNAL_ERROR: number = -32603;
/** The request was cancelled (`$/cancelRequest`, LSP's code), or timed out locally. */
export const REQUEST_CANCELLED: number = -32800;

/** Options of {@linkcode RpcError}. */
export interface RpcErrorOptions extends ErrorOptions {
  /** The error's `data` member: anything JSON can carry. */
  data?: unknown;
}

/**
 * A JSON-RPC error: what a request rejects with when the peer answers with an error, and what a
 * handler throws to answer with a given `code` (any other thrown value is answered as
 * {@linkcode INTERNAL_ERROR}).
 */
export class RpcError extends DuctError {
  /** The JSON-RPC error code (see {@linkcode METHOD_NOT_FOUND} and its siblings). */
  readonly code: number;
  /** The error's `data` member, `undefined` if it had none. */
  readonly data: unknown;

  /**
   * An error with JSON-RPC `code` and `message`, and `options.data` if given.
   *
   * @example Answer a request with -32602
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { INVALID_PARAMS, RpcError } from "./mod.ts";
   * const error = new RpcError(INVALID_PARAMS, "params must be two numbers", { data: [1] });
   * assertEquals([error.code, error.data, error instanceof Error], [-32602, [1], true]);
   * ```
   */
  constructor(code: number, message: string, options: RpcErrorOptions = {}) {
    super(message, options);
    this.code = code;
    this.data = options.data;
  }

  /**
   * The error as the `error` member of a response: `{ code, message }`, and `data` if set. No
   * stack trace is ever sent.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { RpcError } from "./mod.ts";
   * assertEquals(new RpcError(-1, "no").toJSON(), { code: -1, message: "no" });
   * ```
   */
  toJSON(): { code: number; message: string; data?: unknown } {
    const json: { code: number; message: string; data?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.data !== undefined) json.data = this.data;
    return json;
  }
}

/**
 * The {@linkcode RpcError} an `error` member received from a peer stands for. A malformed
 * member (no integer `code`, no string `message`) keeps what it can, as {@linkcode INTERNAL_ERROR}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { rpcErrorFrom } from "./rpc_errors.ts";
 * assertEquals(rpcErrorFrom({ code: -32601, message: "no such method" }).code, -32601);
 * ```
 */
export function rpcErrorFrom(error: unknown): RpcError {
  const object = typeof error === "object" && error !== null
    ? error as Record<string, unknown>
    : {};
  const code = Number.isInteger(object.code) ? object.code as number : INTERNAL_ERROR;
  const message = typeof object.message === "string"
    ? object.message
    : `malformed error response: ${JSON.stringify(error)?.slice(0, 100)}`;
  return new RpcError(code, message, "data" in object ? { data: object.data } : {});
}
