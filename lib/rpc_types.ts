/**
 * The public types of the JSON-RPC part: {@linkcode RpcPeer}'s options, handlers and what they are
 * given, and the options of a request.
 *
 * @module
 */

import type { DuctError } from "./errors.ts";
import type { RpcPeer } from "./rpc.ts";
import type { Id } from "./rpc_message.ts";

/** Default most outgoing requests awaiting their response at once. */
export const DEFAULT_MAX_PENDING = 1024;
/** Default most handlers running at once on one connection. */
export const DEFAULT_MAX_CONCURRENT = 128;
/** What a request handler is given besides the params. */
export interface RequestContext {
  /** Aborted when the peer cancels the request or the connection closes. */
  signal: AbortSignal;
  /** The request's id, as the peer chose it. */
  id: Id;
  /** The method called. */
  method: string;
  /** The peer the request came from (to call it back, as LSP servers do). */
  peer: RpcPeer;
}

/** Answers a request: the value it returns (or resolves to) is the result. */
export type RequestHandler = (params: unknown, context: RequestContext) => unknown;
/** Handles a notification; what it returns is ignored, what it throws goes to `onError`. */
export type NotificationHandler = (params: unknown, peer: RpcPeer) => unknown;

/** Options of {@linkcode RpcPeer}. */
export interface RpcPeerOptions {
  /** Most outgoing requests awaiting a response; `request` waits beyond it. Default 1024. */
  maxPending?: number;
  /**
   * Most request and notification handlers running at once; the next message is then left
   * unread on the connection until one finishes, so a flood is backpressure. Default 128.
   */
  maxConcurrent?: number;
  /**
   * Called with what cannot be thrown at a caller: a response to an id this peer never issued,
   * an error response with `id: null` (the peer could not parse something), a notification
   * handler's error, a reply that could not be sent, the connection's own failure. Default: none.
   */
  onError?: (error: DuctError) => void;
  /** Answers requests for methods without a handler. Default: error -32601. */
  fallback?: (method: string, params: unknown, context: RequestContext) => unknown;
}

/** Options of {@linkcode RpcPeer.request}. */
export interface RequestOptions {
  /** Aborting it rejects the request at once and sends `$/cancelRequest` to the peer. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the response; then as if `signal` were aborted. */
  timeout?: number;
}
