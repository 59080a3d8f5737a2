/**
 * duct: cross-platform local IPC for Deno. Framed messages over a Windows named pipe or a Unix
 * domain socket, with one API on both.
 *
 * ```ts ignore
 * import { connect, listen } from "./mod.ts";
 * const listener = await listen({ name: "testPipe" });
 * for await (const conn of listener) {
 *   for (let message; (message = await conn.receive()) !== null;) await conn.send(message);
 * }
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
} from "./api.ts";
export { Connection, type ConnectionOptions } from "./connection.ts";
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
export type {
  ByteConn,
  ByteListener,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
  TransportTraits,
} from "./transport.ts";
