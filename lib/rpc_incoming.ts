/**
 * The answering side of `RpcPeer`: one incoming request's handler run, the context it is given
 * (its `signal` made only if read), its cancellation and its response. A request whose handler
 * answers at once costs two small objects and no closure: the hot path of an echo-like server.
 *
 * @module
 */

import { METHOD_NOT_FOUND, RpcError } from "./rpc_errors.ts";
import { asRpcError, failure, type Id } from "./rpc_message.ts";
import type { RpcPeer } from "./rpc.ts";
import type { RequestContext, RequestHandler } from "./rpc_types.ts";

/** A response object, as sent. */
export type Response = Record<string, unknown>;

/** What an {@linkcode IncomingRequest} needs of its peer. */
export interface Answerer {
  /** The peer, handed to handlers as `context.peer`. */
  readonly peer: RpcPeer;
  /** Called once, when the request has its response (answered or cancelled). */
  finished(request: IncomingRequest): void;
}

/**
 * One request being answered: {@linkcode IncomingRequest.run} calls its handler, and
 * {@linkcode IncomingRequest.abort} cancels it (its signal aborts; the response becomes the
 * error), unless it has already answered.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { IncomingRequest } from "./rpc_incoming.ts";
 * import type { RpcPeer } from "./rpc.ts";
 * const request = new IncomingRequest(7, { peer: {} as RpcPeer, finished() {} });
 * assertEquals(request.run("echo", (params) => params, [1]), { jsonrpc: "2.0", id: 7, result: [1] });
 * ```
 */
export class IncomingRequest {
  /** The request's id, as the peer chose it. */
  readonly id: Id;
  readonly #answerer: Answerer;
  #controller: AbortController | undefined;
  #reason: unknown;
  #answer: Response | undefined;
  #deliver: ((response: Response) => void) | undefined;

  /** A request with `id`, reporting to `answerer`. */
  constructor(id: Id, answerer: Answerer) {
    this.id = id;
    this.#answerer = answerer;
  }

  /** Whether its response is decided. */
  get answered(): boolean {
    return this.#answer !== undefined;
  }

  /** The handler's signal, made on first use (aborted at once if the request already was). */
  signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * Calls `handler` (`undefined`: the method is unknown) and returns the response, or its
   * promise when the handler answers later.
   */
  run(
    method: string,
    handler: RequestHandler | undefined,
    params: unknown,
  ): Response | Promise<Response> {
    let result: unknown;
    try {
      if (handler === undefined) {
        throw new RpcError(METHOD_NOT_FOUND, `Method not found: ${method}`);
      }
      result = handler(params, new Context(this, method, this.#answerer.peer));
    } catch (error) {
      return this.#settle(failure(this.id, asRpcError(error)));
    }
    if (!isThenable(result)) {
      return this.#settle({ jsonrpc: "2.0", id: this.id, result: result ?? null });
    }
    return new Promise<Response>((resolve) => {
      this.#deliver = resolve;
      result.then(
        (value) => this.#settle({ jsonrpc: "2.0", id: this.id, result: value ?? null }),
        (error) => this.#settle(failure(this.id, asRpcError(error))),
      );
    });
  }

  /** Cancels the request unless it has answered: its signal aborts with `why`, which answers. */
  abort(why: unknown): void {
    if (this.#answer !== undefined) return;
    this.#reason = why;
    this.#controller?.abort(why);
    this.#settle(failure(this.id, asRpcError(why)));
  }

  // The first response wins; later ones (a handler answering after its cancel) are dropped.
  #settle(response: Response): Response {
    if (this.#answer !== undefined) return this.#answer;
    this.#answer = response;
    this.#answerer.finished(this);
    this.#deliver?.(response);
    return response;
  }
}

/** What a handler is given: `signal` is made only if read. */
class Context implements RequestContext {
  readonly #request: IncomingRequest;
  readonly id: Id;
  readonly method: string;
  readonly peer: RpcPeer;

  constructor(request: IncomingRequest, method: string, peer: RpcPeer) {
    this.#request = request;
    this.id = request.id;
    this.method = method;
    this.peer = peer;
  }

  get signal(): AbortSignal {
    return this.#request.signal();
  }
}

/**
 * A response as JSON; a result JSON cannot carry (cyclic, or nested too deep for the stack) is
 * answered as -32603 instead.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { serialize } from "./rpc_incoming.ts";
 * const cyclic: Record<string, unknown> = {};
 * cyclic.self = cyclic;
 * assertEquals(JSON.parse(serialize({ jsonrpc: "2.0", id: 1, result: cyclic })).error.code, -32603);
 * ```
 */
export function serialize(response: Response): string {
  try {
    return JSON.stringify(response);
  } catch (error) {
    return JSON.stringify(failure(response.id as Id, asRpcError(error)));
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}
