/**
 * `listen` and `connect`: the two calls a program needs, the same on every platform.
 *
 * @module
 */

import { Connection, type ConnectionOptions } from "./connection.ts";
import { type Endpoint, resolveEndpoint } from "./endpoint.ts";
import { DuctError } from "./errors.ts";
import type { Framing } from "./framing.ts";
import { type ResolvedOptions, resolveOptions, type TrustServer } from "./options.ts";
import type { ByteListener, Transport } from "./transport.ts";

export { DEFAULT_CONNECT_TIMEOUT, type TrustServer } from "./options.ts";

/** Options shared by {@linkcode listen} and {@linkcode connect}. */
export interface EndpointOptions {
  /** A plain endpoint name or a path. Default `testPipe`. */
  name?: string;
  /** How frames are delimited. Default `"length"`. */
  framing?: Framing;
  /** Largest frame payload in bytes. Default 16 MiB. */
  maxFrame?: number;
  /**
   * Keep a connection open after a failed `receive`, for replies to the frames received before
   * the failure; closing it is then the caller's job. Default `false`: it closes itself once the
   * frames sent so far are written, so that a peer is never left waiting.
   */
  keepOpenAfterError?: boolean;
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
  /**
   * Serve at most this many clients at once: no further connection is accepted until one of them
   * is closed (`close`, `abort`, or by the library after a failed `receive`). Extra clients wait,
   * never refused: on Windows for a free pipe instance, up to their `connect` timeout; on Unix in
   * the kernel's accept queue, already connected, their frames unread until they are accepted
   * (`connect` waits only once that queue is full). Default: no limit.
   */
  maxClients?: number;
  /**
   * Closes the listener once aborted, as {@linkcode Listener.close} does: accepting stops, the
   * iteration ends and the socket file is removed (connections already accepted stay open). So a
   * program stops cleanly on a signal with one line (see the example of {@linkcode listen}).
   */
  signal?: AbortSignal;
}

/** Options of {@linkcode connect}. */
export interface ConnectOptions extends EndpointOptions {
  /** How long to wait for a server that is absent or busy, in milliseconds. Default 5000. */
  timeout?: number;
  /** Stops waiting early. */
  signal?: AbortSignal;
  /**
   * Whose endpoint to talk to. `"self"` (default): only one owned by you or by the system (on
   * Windows the pipe's owner must be you, SYSTEM or the Administrators group; on Unix the socket
   * file must be yours or root's), checked before a byte is sent; anything else is closed at once
   * and `connect` throws `PermissionDeniedError`. This stops another local user who
   * creates the name first (before your server starts, or while it restarts) from receiving your
   * messages. `"any"`: whoever owns it, for a server run by another user with `allowOthers`.
   */
  trustServer?: TrustServer;
}

/** A listening endpoint: iterate it to receive connections. */
export interface Listener extends AsyncIterable<Connection>, AsyncDisposable {
  /** The endpoint being served. */
  readonly endpoint: Endpoint;
  /**
   * Resolves with the next client, or `null` once the listener is closed. With `maxClients`, waits
   * until fewer than that many accepted connections are open.
   *
   * @throws {DuctError} if the operating system fails to accept (out of file descriptors, say).
   */
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
 * import { platformTransport } from "./mod.ts";
 * const transport = await platformTransport();
 * console.log(transport.messageMode);
 * ```
 */
export async function platformTransport(): Promise<Transport> {
  if (Deno.build.os === "windows") return (await import("./windows/transport.ts")).windowsTransport;
  return (await import("./unix/transport.ts")).unixTransport;
}

/**
 * Starts serving an endpoint.
 *
 * @throws {TypeError} or {@linkcode RangeError} for a bad option (named in the message).
 * @throws {AddressInUseError} if another server already listens there.
 * @throws {InvalidNameError} for a name that cannot be used, or a path whose directory is missing.
 * @throws {UnsafePathError} for a socket path or directory that is unsafe to use (Unix).
 * @throws {PermissionDeniedError} if the operating system refuses access to the endpoint.
 * @throws {Win32Error} for any other failure of a Windows call; {@linkcode DuctError} for any
 * other failure of the operating system on Unix, naming the path.
 * @throws {Deno.errors.NotCapable} without the permissions docs/library.md lists.
 * @throws The `signal`'s reason if it is already aborted (nothing is opened then).
 *
 * @example
 * ```ts ignore
 * import { listen } from "./mod.ts";
 * // SIGTERM (Ctrl+C on Windows) closes the listener and removes its socket file.
 * const stop = new AbortController();
 * Deno.addSignalListener(Deno.build.os === "windows" ? "SIGINT" : "SIGTERM", () => stop.abort());
 * await using listener = await listen({ name: "testPipe", signal: stop.signal });
 * for await (const conn of listener) {
 *   const message = await conn.receive();
 *   if (message !== null) await conn.send(message);
 *   await conn.close();
 * }
 * ```
 */
export async function listen(options: ListenOptions = {}): Promise<Listener> {
  const resolved = resolveOptions({ ...options });
  const endpoint = resolveEndpoint(resolved.name);
  const signal = resolved.signal;
  signal?.throwIfAborted();
  const transport = await platformTransport();
  const raw = await transport.listen({
    name: endpoint.name,
    path: endpoint.path,
    allowOthers: resolved.allowOthers,
    managedDirectory: endpoint.managedDirectory,
    maxClients: resolved.maxClients,
  });
  const listener = createListener(raw, endpoint, connectionOptions(resolved, transport));
  if (signal !== undefined) {
    // Aborted while the endpoint was being set up: it must not stay open.
    if (signal.aborted) listener.close();
    else {
      const close = () => listener.close();
      signal.addEventListener("abort", close, { once: true });
      listener.closed.then(() => signal.removeEventListener("abort", close));
    }
  }
  return listener;
}

/**
 * Connects to a server, waiting up to `timeout` for one to be there and free.
 *
 * @throws {TypeError} or {@linkcode RangeError} for a bad option (named in the message).
 * @throws {ConnectTimeoutError} once the timeout runs out with no server free to answer.
 * @throws {InvalidNameError} for a name that cannot be used.
 * @throws {PermissionDeniedError} if the server belongs to another user who did not allow others,
 * or, unless `trustServer` is `"any"`, if the endpoint is owned by another user.
 * @throws {Win32Error} for any other failure of a Windows call; {@linkcode DuctError} for any
 * other failure of the operating system on Unix, naming the path.
 * @throws The `signal`'s reason once it is aborted.
 * @throws {Deno.errors.NotCapable} without the permissions docs/library.md lists.
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
  const resolved = resolveOptions({ ...options });
  const endpoint = resolveEndpoint(resolved.name);
  const transport = await platformTransport();
  const raw = await transport.connect({
    name: endpoint.name,
    path: endpoint.path,
    timeout: resolved.timeout,
    signal: resolved.signal,
    trustServer: resolved.trustServer,
  });
  return new Connection(raw, connectionOptions(resolved, transport));
}

// What every connection of this endpoint gets: whole, already checked options.
function connectionOptions(options: ResolvedOptions, transport: Transport): ConnectionOptions {
  const { framing, maxFrame, highWaterMark, keepOpenAfterError } = options;
  return {
    framing,
    maxFrame,
    highWaterMark,
    writePerFrame: transport.messageMode && (framing === "line" || framing === "nul"),
    keepOpenAfterError,
  };
}

function createListener(
  raw: ByteListener,
  endpoint: Endpoint,
  options: ConnectionOptions,
): Listener & { closed: Promise<void> } {
  let closed = false;
  const whenClosed = Promise.withResolvers<void>();
  const accept = async (): Promise<Connection | null> => {
    if (closed) return null;
    try {
      return new Connection(await raw.accept(), options);
    } catch (error) {
      if (closed) return null;
      if (error instanceof DuctError) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw new DuctError(`cannot accept a client on ${endpoint.name}: ${detail}`, {
        cause: error,
      });
    }
  };
  return {
    endpoint,
    accept,
    closed: whenClosed.promise,
    close() {
      if (closed) return;
      closed = true;
      raw.close();
      whenClosed.resolve();
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
