/**
 * {@linkcode RpcPeer}: a symmetric JSON-RPC 2.0 endpoint over one {@linkcode Connection}, as LSP
 * and vscode-jsonrpc use it (either side calls the other; `$/cancelRequest` cancels). The shapes
 * of messages are checked in `rpc_message.ts`; `serve` is in `rpc_serve.ts`.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import { Outgoing } from "./rpc_outgoing.ts";
import {
  DEFAULT_MAX_CONCURRENT,
  DEFAULT_MAX_PENDING,
  type NotificationHandler,
  type RequestHandler,
  type RequestOptions,
  type RpcPeerOptions,
} from "./rpc_types.ts";
import { ConnectionClosedError, DuctError, ProtocolError } from "./errors.ts";
import {
  INVALID_REQUEST,
  PARSE_ERROR,
  REQUEST_CANCELLED,
  RpcError,
  rpcErrorFrom,
} from "./rpc_errors.ts";
import { type Answerer, IncomingRequest, type Response, serialize } from "./rpc_incoming.ts";
import {
  asDuct,
  classify,
  failure,
  type Id,
  type Incoming,
  message,
  Slots,
} from "./rpc_message.ts";

/** Cancelled ids remembered, so that their late responses are not reported as unknown. */
const CANCELLED_MEMORY = 4096;
const CANCEL_METHOD = "$/cancelRequest";

/**
 * A JSON-RPC 2.0 endpoint over one connection: it calls the peer (`request`, `notify`) and
 * answers it (`handle`, `onNotification`), with many requests in flight both ways. It starts
 * reading at once: register handlers before the first `await`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { connect, listen, RpcPeer } from "./mod.ts";
 * const name = `rpc-doc-${crypto.randomUUID()}`;
 * await using listener = await listen({ name, framing: "content-length" });
 * listener.accept().then((conn) =>
 *   new RpcPeer(conn!).handle("add", (params) => (params as number[])[0] + (params as number[])[1])
 * );
 * await using client = new RpcPeer(await connect({ name, framing: "content-length" }));
 * assertEquals(await client.request("add", [2, 3]), 5);
 * ```
 */
export class RpcPeer implements AsyncDisposable {
  readonly #conn: Connection;
  readonly #handlers = new Map<string, RequestHandler>();
  readonly #notifications = new Map<string, NotificationHandler>();
  readonly #pending = new Map<number, Outgoing>();
  // Requests whose handlers answer later, by id (`1` and `"1"` are different keys).
  readonly #running = new Map<Id, IncomingRequest>();
  readonly #cancelled = new Set<number>();
  readonly #pendingSlots: Slots;
  readonly #handlerSlots: Slots;
  readonly #onError: (error: DuctError) => void;
  readonly #fallback: RpcPeerOptions["fallback"];
  readonly #closed = Promise.withResolvers<void>();
  #nextId = 0;
  #ended: ConnectionClosedError | undefined;

  /** Speaks JSON-RPC over `conn` (any framing); see {@linkcode RpcPeerOptions}. */
  constructor(conn: Connection, options: RpcPeerOptions = {}) {
    this.#conn = conn;
    this.#pendingSlots = new Slots(positive("maxPending", options.maxPending, DEFAULT_MAX_PENDING));
    this.#handlerSlots = new Slots(
      positive("maxConcurrent", options.maxConcurrent, DEFAULT_MAX_CONCURRENT),
    );
    this.#onError = options.onError ?? (() => {});
    this.#fallback = options.fallback;
    this.#read();
  }

  /** Settles once the connection is closed, by either side or by a failure. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** The connection the peer speaks over. */
  get connection(): Connection {
    return this.#conn;
  }

  /**
   * Answers requests for `method` with `handler` (sync or async). A thrown {@linkcode RpcError}
   * is answered with its code; anything else as -32603 with the error's message, no stack.
   */
  handle(method: string, handler: RequestHandler): this {
    this.#handlers.set(method, handler);
    return this;
  }

  /** Runs `handler` for each notification of `method`. */
  onNotification(method: string, handler: NotificationHandler): this {
    this.#notifications.set(method, handler);
    return this;
  }

  /**
   * Calls `method` on the peer and resolves with its result. Waits first while `maxPending`
   * requests are outstanding.
   *
   * @throws {RpcError} the peer's error response; or code -32800 if `signal` aborted or
   * `timeout` ran out (the peer is then sent `$/cancelRequest`).
   * @throws {ConnectionClosedError} if the connection closes before the response.
   */
  request(method: string, params?: unknown, options?: RequestOptions): Promise<unknown> {
    // The hot path: no options, a free slot, no async function.
    if (options === undefined && this.#ended === undefined && this.#pendingSlots.tryAcquire()) {
      return this.#call(method, params, undefined, undefined);
    }
    return this.#waitAndCall(method, params, options ?? {});
  }

  async #waitAndCall(method: string, params: unknown, options: RequestOptions): Promise<unknown> {
    const { signal, timeout } = options;
    signal?.throwIfAborted();
    if (this.#ended) throw this.#ended;
    if (!this.#pendingSlots.tryAcquire()) await this.#pendingSlots.acquire();
    if (this.#ended || signal?.aborted) {
      this.#pendingSlots.release();
      if (this.#ended) throw this.#ended;
      throw new RpcError(REQUEST_CANCELLED, `${method}: cancelled (${String(signal!.reason)})`);
    }
    return await this.#call(method, params, signal, timeout);
  }

  // Sends a request, its slot acquired; what settles it (the response, a cancel, the end of the
  // connection, a failed send) also frees its slot.
  #call(
    method: string,
    params: unknown,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
  ): Promise<unknown> {
    const id = ++this.#nextId;
    let text: string;
    try {
      text = JSON.stringify(message(id, method, params));
    } catch (error) {
      this.#pendingSlots.release();
      return Promise.reject(error);
    }
    const call = new Outgoing(method);
    this.#pending.set(id, call);
    if (signal !== undefined || timeout !== undefined) {
      call.watch(signal, timeout, (reason) => this.#cancel(id, call, reason));
    }
    this.#conn.send(text).then(undefined, (error) => {
      if (this.#finish(id, call)) call.reject(error);
    });
    return call.promise;
  }

  // Rejects a request at once and tells the peer, which may still answer it (expected, not
  // reported: see `#remember`).
  #cancel(id: number, call: Outgoing, reason: string): void {
    if (!this.#finish(id, call)) return;
    this.#remember(id);
    call.reject(new RpcError(REQUEST_CANCELLED, `${call.method}: ${reason}`));
    this.#send({ jsonrpc: "2.0", method: CANCEL_METHOD, params: { id } }).catch(() => {});
  }

  // Takes a request out of those pending (false if it no longer is) and frees its slot.
  #finish(id: number, call: Outgoing): boolean {
    if (this.#pending.get(id) !== call) return false;
    this.#pending.delete(id);
    this.#pendingSlots.release();
    call.unwatch();
    return true;
  }

  /** Sends a notification (no response comes). Settles once the frame is accepted by `send`. */
  notify(method: string, params?: unknown): Promise<void> {
    if (this.#ended) return Promise.reject(this.#ended);
    const notification: Record<string, unknown> = { jsonrpc: "2.0", method };
    if (params !== undefined) notification.params = params;
    return this.#send(notification);
  }

  /**
   * Closes the connection: outstanding requests reject with {@linkcode ConnectionClosedError},
   * running handlers' signals abort, replies already queued are written first.
   */
  async close(): Promise<void> {
    this.#end(new ConnectionClosedError("the RPC connection was closed"));
    await this.#conn.close().catch(() => {});
    await this.#closed.promise;
  }

  /** Same as {@linkcode RpcPeer.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #send(value: unknown): Promise<void> {
    return this.#conn.send(JSON.stringify(value));
  }

  #remember(id: number): void {
    this.#cancelled.add(id);
    if (this.#cancelled.size > CANCELLED_MEMORY) {
      this.#cancelled.delete(this.#cancelled.values().next().value!);
    }
  }

  async #read(): Promise<void> {
    let why: ConnectionClosedError | undefined;
    try {
      for (let frame; (frame = await this.#conn.receive()) !== null && !this.#ended;) {
        const waiting = this.#dispatch(frame);
        if (waiting !== undefined) await waiting;
      }
    } catch (error) {
      if (!this.#ended) {
        const duct = error instanceof DuctError ? error : new DuctError(String(error));
        this.#onError(duct);
        why = new ConnectionClosedError(`the RPC connection failed: ${duct.message}`, {
          cause: error,
        });
      }
    }
    this.#end(why ?? new ConnectionClosedError("the peer closed the RPC connection"));
    await this.#conn.close().catch(() => {});
    this.#closed.resolve();
  }

  #end(why: ConnectionClosedError): void {
    if (this.#ended) return;
    this.#ended = why;
    for (const call of this.#pending.values()) {
      call.unwatch();
      call.reject(why);
    }
    this.#pending.clear();
    for (const running of this.#running.values()) running.abort(why);
    this.#running.clear();
    this.#pendingSlots.fail(why);
    this.#handlerSlots.fail(why);
  }

  // Returns a promise only when the next message must wait (a handler slot, a batch): a
  // response, or a request with a free slot, costs no async function (the hot paths).
  #dispatch(frame: Uint8Array): Promise<void> | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(frame));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return this.#reply(failure(null, new RpcError(PARSE_ERROR, `Parse error: ${detail}`)));
    }
    if (Array.isArray(parsed)) return this.#batch(parsed);
    const message: Incoming = classify(parsed);
    if (message.kind === "response") return this.#response(message.id, message.value);
    if (message.kind === "request" && this.#handlerSlots.tryAcquire()) {
      const answer = this.#request(message.id, message.method, message.params);
      if (answer instanceof Promise) {
        answer.then(this.#replyTo);
        return;
      }
      this.#reply(answer);
      // A sync handler's reply is queued: one turn lets its write start before the next read.
      return ANSWERED;
    }
    return this.#single(message);
  }

  readonly #replyTo = (response: Response): Promise<void> => this.#reply(response);

  async #single(message: Incoming): Promise<void> {
    const answer = await this.#one(message);
    // Answered when the handler is done; meanwhile the next message is read.
    answer?.response.then(this.#replyTo);
  }

  async #batch(parsed: unknown[]): Promise<void> {
    if (parsed.length === 0) {
      return this.#reply(failure(null, new RpcError(INVALID_REQUEST, "empty batch")));
    }
    // Each element waits for a handler slot in turn; the answers go out together, as an array.
    const responses: Promise<Response>[] = [];
    for (const element of parsed) {
      if (this.#ended) return;
      const answer = await this.#one(classify(element));
      if (answer !== undefined) responses.push(answer.response);
    }
    if (responses.length > 0) Promise.all(responses).then((all) => this.#reply(all));
  }

  // Handles one message. Resolves once a request's handler has its slot and has started, with
  // the promise of its response; `undefined` for what gets no response.
  async #one(message: Incoming): Promise<Answer | undefined> {
    switch (message.kind) {
      case "invalid":
        return answered(failure(message.id, new RpcError(INVALID_REQUEST, message.reason)));
      case "response":
        return this.#response(message.id, message.value);
      case "notification":
        if (message.method === CANCEL_METHOD) return this.#cancelIncoming(message.params);
        return await this.#notification(message.method, message.params);
      case "request":
        await this.#handlerSlots.acquire();
        return {
          response: Promise.resolve(this.#request(message.id, message.method, message.params)),
        };
    }
  }

  #response(id: Id, value: Record<string, unknown>): undefined {
    const pending = typeof id === "number" ? this.#pending.get(id) : undefined;
    if (pending === undefined) {
      if (typeof id === "number" && this.#cancelled.delete(id)) return;
      const error = "error" in value ? ` (${JSON.stringify(value.error)?.slice(0, 200)})` : "";
      this.#onError(
        new ProtocolError(
          `the peer sent a response to id ${JSON.stringify(id)}, which this peer has no ` +
            `request waiting for${error}`,
        ),
      );
      return;
    }
    this.#finish(id as number, pending);
    if ("error" in value) pending.reject(rpcErrorFrom(value.error));
    else pending.resolve(value.result);
  }

  #cancelIncoming(params: unknown): undefined {
    const id = (params as { id?: unknown } | undefined)?.id;
    if (typeof id !== "number" && typeof id !== "string") return;
    this.#running.get(id)?.abort(
      new RpcError(REQUEST_CANCELLED, "Request cancelled by the peer"),
    );
  }

  async #notification(method: string, params: unknown): Promise<undefined> {
    const handler = this.#notifications.get(method);
    // Unknown notifications are dropped (LSP: `$/` ones may be ignored; others have no reply).
    if (handler === undefined) return;
    await this.#handlerSlots.acquire();
    // Runs on its own, holding its slot, so that the next message is read meanwhile.
    (async () => {
      try {
        await handler(params, this);
      } catch (error) {
        this.#onError(asDuct(error, `notification ${method} failed`));
      } finally {
        this.#handlerSlots.release();
      }
    })();
  }

  // Runs the handler (its slot acquired) and returns its response, or the promise of it. The
  // slot is freed when it answers or is cancelled (a handler that ignores its signal no longer
  // holds a slot). Only a request answered later is kept by id, for `$/cancelRequest`.
  #request(id: Id, method: string, params: unknown): Response | Promise<Response> {
    const request = new IncomingRequest(id, this.#answerer);
    const answer = request.run(
      method,
      this.#handlers.get(method) ?? this.#fallbackFor(method),
      params,
    );
    if (answer instanceof Promise && !request.answered) {
      if (this.#ended) request.abort(this.#ended);
      else this.#running.set(id, request);
    }
    return answer;
  }

  #fallbackFor(method: string): RequestHandler | undefined {
    const fallback = this.#fallback;
    return fallback && ((params, context) => fallback(method, params, context));
  }

  readonly #answerer: Answerer = {
    peer: this,
    finished: (request) => {
      if (this.#running.get(request.id) === request) this.#running.delete(request.id);
      this.#handlerSlots.release();
    },
  };

  async #reply(response: Response | Response[]): Promise<void> {
    if (this.#ended) return;
    const text = Array.isArray(response)
      ? `[${response.map(serialize).join(",")}]`
      : serialize(response);
    await this.#conn.send(text).catch((error) => {
      if (!this.#ended) this.#onError(asDuct(error, "cannot send a reply"));
    });
  }
}

interface Answer {
  response: Promise<Response>;
}

function answered(response: Response): Answer {
  return { response: Promise.resolve(response) };
}

const decoder = new TextDecoder();
const ANSWERED = Promise.resolve();

function positive(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${option} must be a whole number of at least 1, not ${value}`);
  }
  return value;
}
