/**
 * duct: local inter-process communication for Deno, the same on every platform. A server
 * {@linkcode listen}s on an endpoint name; clients {@linkcode connect} to it; both exchange whole
 * messages (frames) over a {@linkcode Connection}. On Windows the endpoint is a named pipe
 * (`\\.\pipe\NAME`, through FFI to `kernel32.dll`); on Linux and macOS a Unix domain socket
 * (`0600`, in a per-user `0700` directory: only the user can connect unless `allowOthers`).
 * Nothing leaves the machine.
 *
 * - Framing: `length` (a 4-byte big-endian length before each message, the default), `line`
 *   (`\n`-terminated) or `nul` (`\0`-terminated): pick the one the peer speaks; see
 *   {@linkcode FRAMINGS}.
 * - Limits and backpressure: `maxFrame` (default 16 MiB) bounds every message in both directions;
 *   `send` waits once `highWaterMark` bytes are unsent.
 * - Errors: a failure is a {@linkcode DuctError} subclass a program can act on, such as
 *   {@linkcode ConnectTimeoutError}, {@linkcode AddressInUseError} or
 *   {@linkcode FrameTooLargeError}; a bad option is a `TypeError` or `RangeError`.
 * - {@linkcode ReliableSender} resends what a restarted server never confirmed.
 *
 * Permissions: `--allow-env --allow-read --allow-write --allow-sys --allow-net`, plus
 * `--allow-ffi` on Windows (docs/library.md says what each is for).
 *
 * A server that answers each message in upper case, and a client of it, in one program:
 *
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { connect, listen } from "@duct/duct";
 *
 * const name = `example-${crypto.randomUUID().slice(0, 8)}`;
 * const listener = await listen({ name });
 * const serving = (async () => {
 *   for await (const conn of listener) {
 *     for (let message; (message = await conn.receive()) !== null;) {
 *       await conn.send(new TextDecoder().decode(message).toUpperCase());
 *     }
 *     await conn.close();
 *     return;
 *   }
 * })();
 *
 * const conn = await connect({ name });
 * await conn.send("hello");
 * const reply = await conn.receive();
 * assertEquals(new TextDecoder().decode(reply!), "HELLO");
 * await conn.close();
 * await serving;
 * listener.close();
 * ```
 *
 * @module
 */

export {
  connect,
  type ConnectOptions,
  DEFAULT_CONNECT_TIMEOUT,
  type EndpointOptions,
  listen,
  type Listener,
  type ListenOptions,
  platformTransport,
  type TrustServer,
} from "./api.ts";
export { Connection, type ConnectionOptions } from "./connection.ts";
export { TRUST_SERVER_VALUES } from "./options.ts";
export type { ReceiveOptions } from "./abort.ts";
export {
  DEFAULT_NAME,
  defaultDirectory,
  type Endpoint,
  PIPE_PREFIX,
  type Platform,
  resolveEndpoint,
  type ResolveOptions,
} from "./endpoint.ts";
export {
  AddressInUseError,
  ConnectionClosedError,
  ConnectTimeoutError,
  DuctError,
  FrameTooLargeError,
  type FrameTooLargeOptions,
  InvalidFrameError,
  InvalidNameError,
  PermissionDeniedError,
  ProtocolError,
  UnconfirmedError,
  UnsafePathError,
  Win32Error,
} from "./errors.ts";
export { type EndpointInfo, type EndpointState, listEndpoints } from "./list.ts";
export {
  type BreakInfo,
  DEFAULT_WINDOW,
  FRUITLESS_CONNECTIONS,
  MAX_WINDOW_BYTES,
  type ReconnectInfo,
  ReliableSender,
  type ReliableSenderOptions,
} from "./reliable_sender.ts";
export { FrameDecoder, FrameDecoderStream } from "./frame_decoder.ts";
export {
  concat,
  DEFAULT_MAX_FRAME,
  encodeFrame,
  FrameEncoderStream,
  type Framing,
  type FramingOptions,
  FRAMINGS,
  MAX_LENGTH_HEADER,
  payloadError,
} from "./framing.ts";
export { MAX_CONTENT_LENGTH_HEADER } from "./content_length.ts";
export { RpcPeer } from "./rpc.ts";
export {
  DEFAULT_MAX_CONCURRENT,
  DEFAULT_MAX_PENDING,
  type NotificationHandler,
  type RequestContext,
  type RequestHandler,
  type RequestOptions,
  type RpcPeerOptions,
} from "./rpc_types.ts";
export {
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
  REQUEST_CANCELLED,
  RpcError,
  type RpcErrorOptions,
} from "./rpc_errors.ts";
export type { Id } from "./rpc_message.ts";
export { serve, type ServeOptions } from "./rpc_serve.ts";
export type {
  ByteConn,
  ByteListener,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
  TransportTraits,
} from "./transport.ts";
