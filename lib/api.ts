/**
 * `listen` and `connect`: the two calls a program needs, the same on every platform.
 *
 * @module
 */

import { Connection, DEFAULT_HIGH_WATER_MARK } from "./connection.ts";
import { DEFAULT_NAME, type Endpoint, resolveEndpoint } from "./endpoint.ts";
import { DEFAULT_MAX_FRAME, type Framing } from "./framing.ts";
import type { ByteListener, Transport } from "./transport.ts";

/** Default time `connect` waits for a server that is absent or busy: 5 seconds. */
export const DEFAULT_CONNECT_TIMEOUT = 5000;

/** Options shared by {@linkcode listen} and {@linkcode connect}. */
export interface EndpointOptions {
  /** A plain endpoint name or a path. Default `testPipe`. */
  name?: string;
  /** How frames are delimited. Default `"length"`. */
  framing?: Framing;
  /** Largest frame payload in bytes. Default 16 MiB. */
  maxFrame?: number;
  /**
   * Unsent bytes per connection up to which `send` settles at once; past it, `send` waits until
   * the connection has written enough to be back at the mark (backpressure). Default 1 MiB.
   */
  highWaterMark?: number;
}

/** Options of {@linkcode listen}. */
export interface ListenOptions extends EndpointOptions {
  /** Let other local users connect (off: only the current user may). */
  allowOthers?: boolean;
  /** Serve at most this many clients at once (Windows pipes: extra clients wait). */
  maxClients?: number;
}

/** Options of {@linkcode connect}. */
export interface ConnectOptions extends EndpointOptions {
  /** How long to wait for a server that is absent or busy, in milliseconds. Default 5000. */
  timeout?: number;
  /** Stops waiting early. */
  signal?: AbortSignal;
}

/** A listening endpoint: iterate it to receive connections. */
export interface Listener extends AsyncIterable<Connection>, AsyncDisposable {
  /** The endpoint being served. */
  readonly endpoint: Endpoint;
  /** Resolves with the next client, or `null` once the listener is closed. */
  accept(): Promise<Connection | null>;
  /** Stops accepting and releases the endpoint. Connections already accepted stay open. */
  close(): void;
}

/**
 * Loads the transport of the running platform. The Windows one is imported only on Windows, so
 * Unix programs never load FFI code.
 *
 * @example
 * ```ts
 * import { platformTransport } from "./api.ts";
 * const transport = await platformTransport();
 * console.log(transport.messageMode);
 * ```
 */
export async function platformTransport(): Promise<Transport> {
  if (Deno.build.os === "windows") return (await import("./windows.ts")).windowsTransport;
  return (await import("./unix.ts")).unixTransport;
}

/**
 * Starts serving an endpoint.
 *
 * @throws {AddressInUseError} if another server already listens there.
 * @throws {InvalidNameError} or {@linkcode UnsafePathError} for a name or path that cannot be used.
 *
 * @example
 * ```ts ignore
 * import { listen } from "./mod.ts";
 * await using listener = await listen({ name: "testPipe" });
 * for await (const conn of listener) {
 *   const message = await conn.receive();
 *   if (message !== null) await conn.send(message);
 *   await conn.close();
 * }
 * ```
 */
export async function listen(options: ListenOptions = {}): Promise<Listener> {
  const endpoint = resolveEndpoint(options.name ?? DEFAULT_NAME);
  const transport = await platformTransport();
  const connOptions = connectionOptions(options, transport);
  const raw = await transport.listen({
    name: endpoint.name,
    path: endpoint.path,
    allowOthers: options.allowOthers,
    maxClients: options.maxClients,
  });
  return createListener(raw, endpoint, connOptions);
}

/**
 * Connects to a server, waiting up to `timeout` for one to be there and free.
 *
 * @throws {ConnectTimeoutError} once the timeout runs out.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./mod.ts";
 * await using conn = await connect({ name: "testPipe", timeout: 5000 });
 * await conn.send("hello");
 * const reply = await conn.receive();
 * console.log(reply && new TextDecoder().decode(reply));
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<Connection> {
  const endpoint = resolveEndpoint(options.name ?? DEFAULT_NAME);
  const transport = await platformTransport();
  const connOptions = connectionOptions(options, transport);
  const raw = await transport.connect({
    name: endpoint.name,
    path: endpoint.path,
    timeout: options.timeout ?? DEFAULT_CONNECT_TIMEOUT,
    signal: options.signal,
  });
  return new Connection(raw, connOptions);
}

function connectionOptions(options: EndpointOptions, transport: Transport) {
  const framing = options.framing ?? "length";
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 0) {
    throw new RangeError(`highWaterMark must be a whole number of bytes, not ${highWaterMark}`);
  }
  return {
    framing,
    maxFrame: options.maxFrame ?? DEFAULT_MAX_FRAME,
    highWaterMark,
    writePerFrame: transport.messageMode && framing !== "length",
  };
}

function createListener(
  raw: ByteListener,
  endpoint: Endpoint,
  options: ReturnType<typeof connectionOptions>,
): Listener {
  let closed = false;
  const accept = async (): Promise<Connection | null> => {
    if (closed) return null;
    try {
      return new Connection(await raw.accept(), options);
    } catch (error) {
      if (closed) return null;
      throw error;
    }
  };
  return {
    endpoint,
    accept,
    close() {
      if (closed) return;
      closed = true;
      raw.close();
    },
    async *[Symbol.asyncIterator]() {
      for (let conn; (conn = await accept()) !== null;) yield conn;
    },
    [Symbol.asyncDispose]() {
      this.close();
      return Promise.resolve();
    },
  };
}
