/**
 * The contract between the framing layer and an operating-system transport. A transport moves
 * bytes only; framing, coalescing and the public API live above it, identical on every platform.
 *
 * @module
 */

/** A connected byte stream: the subset of `Deno.Conn` that duct needs. */
export interface ByteConn {
  /** Reads into `buffer`; resolves to the byte count, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `data`; resolves to the number of bytes written. */
  write(data: Uint8Array): Promise<number>;
  /** Signals end of stream to the peer while still reading. */
  closeWrite(): Promise<void>;
  /** Releases the connection; a pending read then rejects or resolves `null`. */
  close(): void;
}

/** A listening endpoint handing out connected byte streams. */
export interface ByteListener {
  /** Resolves with the next client, or rejects once the listener is closed. */
  accept(): Promise<ByteConn>;
  /** Stops accepting and releases the endpoint (a Unix socket file is removed). */
  close(): void;
}

/** What a transport reports about itself. */
export interface TransportTraits {
  /**
   * Whether each write reaches the reader as one message (Windows message-mode pipes). In
   * delimiter framings such a transport gets one write per frame, so a classic peer reading one
   * message per `ReadFile` sees one frame each time.
   */
  readonly messageMode: boolean;
}

/** Options a transport's `listen` receives, already validated. */
export interface TransportListenOptions {
  /** The plain name the user gave, for messages. */
  name: string;
  /** The resolved OS path (socket file or `\\.\pipe\NAME`). */
  path: string;
  /** Let other local users connect (off by default). */
  allowOthers?: boolean;
  /**
   * Whether `path` lies in duct's own per-user directory, which the transport may create. The
   * directory of a path the user gave must already exist.
   */
  managedDirectory?: boolean;
  /** Maximum concurrent clients, or `undefined` for no limit. */
  maxClients?: number;
}

/** Options a transport's `connect` receives, already validated. */
export interface TransportConnectOptions {
  /** The plain name the user gave, for messages. */
  name: string;
  /** The resolved OS path (socket file or `\\.\pipe\NAME`). */
  path: string;
  /** How long to keep retrying a server that is absent or busy, in milliseconds. */
  timeout: number;
  /** Aborts the retry loop early. */
  signal?: AbortSignal;
  /**
   * `"self"` (default): refuse, before any byte is sent, an endpoint whose owner is not the
   * current user or the system (see `ConnectOptions.trustServer`); `"any"`: skip the check.
   */
  trustServer?: "self" | "any";
}

/** One platform's way of listening and connecting. */
export interface Transport extends TransportTraits {
  /** Starts listening on `options.path`. */
  listen(options: TransportListenOptions): Promise<ByteListener>;
  /** Connects to `options.path`, retrying until `options.timeout` runs out. */
  connect(options: TransportConnectOptions): Promise<ByteConn>;
}
