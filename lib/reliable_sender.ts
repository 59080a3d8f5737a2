/**
 * At-least-once delivery across server restarts: a sender that keeps every message until the
 * server's reply confirms it, and on a broken connection reconnects and sends the unconfirmed
 * ones again, in their original order. An opt-in layer over the public {@linkcode Connection}.
 *
 * @module
 */

import { connect, type ConnectOptions, DEFAULT_CONNECT_TIMEOUT } from "./api.ts";
import type { Connection } from "./connection.ts";
import {
  ConnectionClosedError,
  ConnectTimeoutError,
  ProtocolError,
  UnconfirmedError,
} from "./errors.ts";
import { DEFAULT_NAME } from "./endpoint.ts";
import { watchStalls } from "./stall_watch.ts";

/** Default bound on unconfirmed messages. */
export const DEFAULT_WINDOW = 1000;
/** Most payload bytes kept unconfirmed at once, whatever the window: 16 MiB. */
export const MAX_WINDOW_BYTES = 16 * 1024 * 1024;
/**
 * Connections in a row that may end without confirming anything while messages wait: past this,
 * the server is taken to be one that never confirms (wrong framing, `--reply none`), not a
 * restarting one, and the sender gives up instead of replaying forever.
 */
export const FRUITLESS_CONNECTIONS = 3;

/** What {@linkcode ReliableSenderOptions.onBreak} is told. */
export interface BreakInfo {
  /** Messages waiting for confirmation, to be sent again once reconnected. */
  unconfirmed: number;
  /** Why the connection ended; absent when the server closed it cleanly. */
  error?: unknown;
  /** How long the sender waits for a server to come back, in milliseconds. */
  timeout: number;
}

/** Options of {@linkcode ReliableSender}: where to reconnect, and the window. */
export interface ReliableSenderOptions extends ConnectOptions {
  /** Most messages kept unconfirmed; `send` waits while this many are. Default 1000. */
  window?: number;
  /** Most payload bytes kept unconfirmed (at most, and by default, 16 MiB). */
  windowBytes?: number;
  /** Called with each reply and the message it confirms; a promise it returns is awaited. */
  onReply?: (reply: Uint8Array, message: Uint8Array) => void | Promise<void>;
  /** Called when a connection breaks, before reconnecting. */
  onBreak?: (info: BreakInfo) => void;
  /** Called once reconnected: see {@linkcode ReconnectInfo}. */
  onReconnect?: (info: ReconnectInfo) => void;
  /**
   * How long the server may go without answering while messages await confirmation, in
   * milliseconds, before the sender gives up with {@linkcode UnconfirmedError} (a server that
   * reads and never answers, or hangs, is not one that restarts). 0, the default: no bound.
   */
  replyTimeout?: number;
}

/** What {@linkcode ReliableSenderOptions.onReconnect} is told. */
export interface ReconnectInfo {
  /** Messages unconfirmed when the connection broke, now sent again. */
  resent: number;
  /** Messages `send` took while the sender was reconnecting, now sent for the first time. */
  queued: number;
}

const RESOLVED = Promise.resolve();
const ignore = () => {};

/**
 * Sends messages to a server that answers each one (duct's server with `--reply ack` or `echo`),
 * keeping each until its reply arrives: replies come in order, so each confirms the oldest
 * message outstanding. When the connection breaks (the server exits, crashes or restarts), the
 * sender reconnects, waiting up to `timeout` for a server to come back, sends the unconfirmed
 * messages again in their original order, and goes on.
 *
 * Delivery is at least once: a message the server took in whose reply was lost with the
 * connection is sent again, so the server may see it twice (only among the last `window`
 * messages before a break). If no server comes back in time, {@linkcode ReliableSender.end} and
 * any waiting `send` reject with {@linkcode UnconfirmedError}, which holds every unconfirmed
 * message.
 *
 * @example Send lines to a collector that may restart
 * ```ts ignore
 * import { connect, ReliableSender } from "./mod.ts";
 * const options = { name: "collector", timeout: 30_000 };
 * const sender = new ReliableSender(await connect(options), {
 *   ...options,
 *   onBreak: ({ unconfirmed }) => console.error(`reconnecting; ${unconfirmed} to resend`),
 * });
 * for (const line of ["one", "two", "three"]) await sender.send(line);
 * await sender.end(); // every message confirmed, or an UnconfirmedError listing the rest
 * ```
 */
export class ReliableSender {
  readonly #options: ReliableSenderOptions;
  readonly #window: number;
  readonly #windowBytes: number;
  readonly #timeout: number;
  // Unconfirmed messages, oldest first, from `#head` on (the front is dropped in bulk).
  #queue: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #conn: Connection | undefined;
  #confirmedHere = 0;
  #fruitless = 0;
  #ending = false;
  #failure: unknown;
  #done = Promise.withResolvers<void>();
  #room: PromiseWithResolvers<void> | undefined;
  #lastSend: Promise<void> | undefined;
  #sent = 0;
  #confirmed = 0;
  #stopWatch: () => void;

  /**
   * Takes over `conn` (connected with the same `options`), reading its replies.
   *
   * @throws {RangeError} for a `window` or `windowBytes` that is not a positive whole number.
   */
  constructor(conn: Connection, options: ReliableSenderOptions = {}) {
    const window = options.window ?? DEFAULT_WINDOW;
    const windowBytes = options.windowBytes ?? MAX_WINDOW_BYTES;
    for (const [key, value] of [["window", window], ["windowBytes", windowBytes]] as const) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`${key} must be a whole number of at least 1, not ${value}`);
      }
    }
    this.#options = options;
    this.#window = window;
    this.#windowBytes = Math.min(windowBytes, MAX_WINDOW_BYTES);
    this.#timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
    this.#done.promise.catch(ignore);
    this.#stopWatch = watchStalls({
      timeout: options.replyTimeout ?? 0,
      progress: () => this.#confirmed,
      // Only while connected: reconnecting has its own bound, `timeout`.
      owed: () => this.#conn !== undefined && this.unconfirmed > 0,
      onStall: () =>
        this.#fail(this.#unconfirmedError(
          `the server sent no reply for ${options.replyTimeout! / 1000} s (replyTimeout)`,
          undefined,
        )),
    });
    this.#attach(conn);
  }

  /** Messages sent and not yet confirmed. */
  get unconfirmed(): number {
    return this.#queue.length - this.#head;
  }

  /** Messages accepted by `send` so far (each counted once, however often it is resent). */
  get sent(): number {
    return this.#sent;
  }

  /** Replies received so far, each confirming one message. */
  get confirmed(): number {
    return this.#confirmed;
  }

  /** The messages not yet confirmed, oldest first (after a failure: the ones never confirmed). */
  unconfirmedMessages(): Uint8Array[] {
    return this.#queue.slice(this.#head);
  }

  /** Whether `send` would take a message now, without waiting for room in the window. */
  get hasRoom(): boolean {
    if (this.unconfirmed === 0) return true;
    return this.unconfirmed < this.#window && this.#bytes < this.#windowBytes;
  }

  /** Why the sender stopped (an {@linkcode UnconfirmedError}, say), if it has. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Settles once every message is confirmed after `end`; rejects once the sender has failed. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /**
   * Sends one message, waiting first while the window is full. Resolves once the message is
   * kept and handed to the connection (or, while reconnecting, queued to be sent), not once it is
   * confirmed.
   *
   * @throws {UnconfirmedError} (or the error that ended the sender) once the sender has failed.
   */
  send(message: string | Uint8Array): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#ending) {
      return Promise.reject(new ConnectionClosedError("cannot send: the sender has ended"));
    }
    const payload = typeof message === "string" ? new TextEncoder().encode(message) : message;
    if (this.hasRoom) {
      this.#push(payload);
      return RESOLVED;
    }
    return this.#waitForRoom().then(() => this.send(payload));
  }

  /**
   * Marks the end of the messages: half-closes the connection once they are sent, and resolves
   * once every one is confirmed (reconnecting as often as needed), then closes the connection.
   *
   * @throws {UnconfirmedError} if no server came back within `timeout`, listing the messages
   * never confirmed.
   * @throws {FrameTooLargeError} or {@linkcode ProtocolError} if the server broke the protocol.
   */
  end(): Promise<void> {
    if (!this.#ending && this.#failure === undefined) {
      this.#ending = true;
      if (this.#conn !== undefined) this.#finishIfDone(this.#conn);
    }
    return this.#done.promise;
  }

  /** Stops at once: closes the connection and stops reconnecting. Unconfirmed messages are lost. */
  abort(): void {
    this.#fail(new ConnectionClosedError("the sender was aborted"));
  }

  #push(payload: Uint8Array): void {
    this.#queue.push(payload);
    this.#bytes += payload.length;
    this.#sent++;
    if (this.#conn !== undefined) this.#write(this.#conn, payload);
  }

  #write(conn: Connection, payload: Uint8Array): void {
    const sending = conn.send(payload);
    // A failed write is left to the reader, which still takes in the replies already received
    // (fewer duplicates) and then sees the connection end. Frames sent in one go share a promise.
    if (sending !== this.#lastSend) {
      this.#lastSend = sending;
      sending.catch(ignore);
    }
  }

  #waitForRoom(): Promise<void> {
    this.#room ??= Promise.withResolvers<void>();
    return this.#room.promise;
  }

  #wakeRoom(): void {
    if (this.#room === undefined || (!this.hasRoom && this.#failure === undefined)) return;
    const room = this.#room;
    this.#room = undefined;
    if (this.#failure !== undefined) room.reject(this.#failure);
    else room.resolve();
  }

  #attach(conn: Connection): void {
    this.#conn = conn;
    this.#confirmedHere = 0;
    // Sent again in order before anything newer: `#push` writes only while attached.
    for (let i = this.#head; i < this.#queue.length; i++) this.#write(conn, this.#queue[i]);
    if (this.#ending) this.#finishIfDone(conn);
    void this.#read(conn);
  }

  // After `end`: done once nothing is unconfirmed; else half-close once the queue is written, so
  // that a server that needs the end of input sees it.
  #finishIfDone(conn: Connection): void {
    if (this.unconfirmed === 0) {
      this.#conn = undefined;
      void conn.close();
      this.#succeed();
      return;
    }
    conn.closeWrite().catch(ignore);
  }

  async #read(conn: Connection): Promise<void> {
    let error: unknown;
    try {
      for (let reply; (reply = await conn.receive()) !== null;) {
        if (this.#conn !== conn) return;
        if (this.unconfirmed === 0) {
          throw new ProtocolError(
            "the server sent a reply with no message outstanding: it must answer each message " +
              "exactly once (--reply ack or echo)",
          );
        }
        const message = this.#queue[this.#head++];
        this.#bytes -= message.length;
        this.#confirmed++;
        this.#confirmedHere++;
        this.#fruitless = 0;
        this.#compact();
        this.#wakeRoom();
        const handled = this.#options.onReply?.(reply, message);
        if (handled !== undefined) await handled;
        if (this.#ending && this.#conn === conn && this.unconfirmed === 0) {
          this.#finishIfDone(conn);
        }
      }
    } catch (caught) {
      error = caught;
    }
    if (this.#conn !== conn) return;
    if (error !== undefined && !(error instanceof ConnectionClosedError)) {
      // A broken protocol is not a restart: replaying would break it again.
      this.#fail(error);
      return;
    }
    await this.#broken(conn, error);
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  async #broken(conn: Connection, error: unknown): Promise<void> {
    if (this.#conn !== conn || this.#failure !== undefined) return;
    this.#conn = undefined;
    conn.abort();
    if (this.#ending && this.unconfirmed === 0) {
      this.#succeed();
      return;
    }
    if (this.#confirmedHere === 0 && this.unconfirmed > 0) this.#fruitless++;
    if (this.#fruitless >= FRUITLESS_CONNECTIONS) {
      this.#fail(this.#unconfirmedError(
        `the server closed the connection ${FRUITLESS_CONNECTIONS} times in a row without ` +
          "confirming any message (does it answer each one, with the same framing?)",
        error,
      ));
      return;
    }
    const unconfirmed = this.unconfirmed;
    this.#options.onBreak?.({ unconfirmed, error, timeout: this.#timeout });
    let next: Connection;
    try {
      next = await connect({ ...this.#options, timeout: this.#timeout });
    } catch (failure) {
      const name = this.#options.name ?? DEFAULT_NAME;
      this.#fail(
        failure instanceof ConnectTimeoutError
          ? this.#unconfirmedError(
            `no server came back on ${name} within ${this.#timeout / 1000} s`,
            failure,
          )
          : failure,
      );
      return;
    }
    if (this.#failure !== undefined) {
      next.abort();
      return;
    }
    // `send` went on queueing while the window had room: those were never sent before.
    const queued = this.unconfirmed - unconfirmed;
    this.#attach(next);
    this.#options.onReconnect?.({ resent: unconfirmed, queued });
  }

  // Every message confirmed after `end`: nothing is owed any more.
  #succeed(): void {
    this.#stopWatch();
    this.#done.resolve();
  }

  #unconfirmedError(reason: string, cause: unknown): UnconfirmedError {
    return new UnconfirmedError(reason, this.unconfirmedMessages(), { cause });
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#stopWatch();
    this.#conn?.abort();
    this.#conn = undefined;
    this.#done.reject(error);
    this.#wakeRoom();
  }
}
