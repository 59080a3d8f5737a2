/**
 * The server's replies to messages whose lines are not yet written to stdout (a reply goes out
 * only once its message is printed). Lines printed together share one write, so their replies
 * wait together, as one {@linkcode PendingReplies}.
 *
 * What waits is kept compact on purpose: a promise, a closure or a view per message would survive
 * V8's young-generation collections until stdout has taken the lines, and V8 grows that
 * generation with what survives, so a fast client would grow the server's memory. Acks are
 * counted; short echoes are copied back to back into one buffer.
 *
 * @module
 */

import type { Connection } from "../lib/mod.ts";

/** Echoes up to this size are copied into the shared buffer; larger ones are kept as they are. */
const COPIED_ECHO = 1024;
/** The shared buffer's first size; it doubles as needed. */
const FIRST_BUFFER = 4096;
// Marks, among the sizes, an echo kept as it is (in `#large`).
const LARGE = -1;

const ignore = () => {};

/**
 * Replies waiting for one write to stdout, sent in order by {@linkcode PendingReplies.sendTo}.
 * A server has one reply mode, so they are all acks or all echoes.
 *
 * @example
 * ```ts ignore
 * import { PendingReplies } from "./server_replies.ts";
 * const replies = new PendingReplies(printed, { ack });
 * replies.echo(payload);
 * printed.then(() => replies.sendTo(conn));
 * ```
 */
export class PendingReplies {
  /** Settles once the messages' lines are written. */
  readonly printed: Promise<void>;
  readonly #ack: Uint8Array;
  #acks = 0;
  #buffer: Uint8Array | undefined;
  #used = 0;
  // The size of each echo, or LARGE; typed so that it lies outside the heap V8 collects.
  #sizes = new Int32Array(16);
  #count = 0;
  #large: Uint8Array[] = [];

  /** Replies to messages whose lines settle with `printed`; `ack` is the payload of an ack. */
  constructor(printed: Promise<void>, options: { ack: Uint8Array }) {
    this.printed = printed;
    this.#ack = options.ack;
  }

  /** Adds an ack. */
  ack(): void {
    this.#acks++;
  }

  /** Adds an echo of `payload` (copied if short: the caller may reuse it). */
  echo(payload: Uint8Array): void {
    if (payload.length > COPIED_ECHO) {
      this.#size(LARGE);
      this.#large.push(payload);
      return;
    }
    let buffer = this.#buffer;
    if (buffer === undefined || buffer.length - this.#used < payload.length) {
      const grown = new Uint8Array(Math.max(FIRST_BUFFER, (buffer?.length ?? 0) * 2));
      if (buffer !== undefined) grown.set(buffer.subarray(0, this.#used));
      buffer = this.#buffer = grown;
    }
    buffer.set(payload, this.#used);
    this.#used += payload.length;
    this.#size(payload.length);
  }

  #size(size: number): void {
    if (this.#count === this.#sizes.length) {
      const grown = new Int32Array(this.#sizes.length * 2);
      grown.set(this.#sizes);
      this.#sizes = grown;
    }
    this.#sizes[this.#count++] = size;
  }

  /**
   * Sends every reply, in order; resolves or rejects as the last `send` does, or as the first
   * that failed (every later one fails too).
   */
  sendTo(conn: Connection): Promise<void> {
    let result: Promise<void> | undefined;
    const send = (payload: Uint8Array) => {
      const sent = conn.send(payload);
      // `send` hands back one promise for the frames it takes at once: a handler per distinct one.
      if (sent !== result) {
        sent.catch(ignore);
        result = sent;
      }
    };
    for (let i = 0; i < this.#acks; i++) send(this.#ack);
    let at = 0;
    let large = 0;
    for (let i = 0; i < this.#count; i++) {
      const size = this.#sizes[i];
      if (size === LARGE) {
        send(this.#large[large++]);
      } else {
        // Short frames are copied by `send`: the view need not outlive the call.
        send(this.#buffer!.subarray(at, at + size));
        at += size;
      }
    }
    return result ?? Promise.resolve();
  }
}
