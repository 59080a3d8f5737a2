/**
 * Named errors of duct. Every one extends {@linkcode DuctError}, so a caller can catch them all,
 * and carries a message a user can act on.
 *
 * @module
 */

/** Base class of every error duct throws on purpose. */
export class DuctError extends Error {
  /**
   * Creates an error with a message a user can act on; `options.cause` keeps the error behind it.
   *
   * @example Catch any duct error
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { DuctError } from "./mod.ts";
   * const error: Error = new DuctError("boom");
   * assertEquals(error instanceof DuctError, true);
   * ```
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An endpoint name that cannot be used: empty, too long, containing NUL, or a path whose
 * directory does not exist.
 */
export class InvalidNameError extends DuctError {}

/** Options of {@linkcode FrameTooLargeError}. */
export interface FrameTooLargeOptions extends ErrorOptions {
  /**
   * Set when a `line` or `nul` frame ran past the maximum without its delimiter (`"newline"` or
   * `"NUL"`): the frame's size is then unknown, and `size` counts the bytes received so far.
   */
  unterminated?: string;
}

/** A frame longer than the configured maximum was sent or announced by the peer. */
export class FrameTooLargeError extends DuctError {
  /**
   * The size that was sent or announced, in bytes; for an unterminated frame, the bytes received
   * so far (the frame is longer).
   */
  readonly size: number;
  /** The configured maximum, in bytes. */
  readonly maxFrame: number;

  /**
   * Describes a frame of `size` bytes refused for exceeding `maxFrame` bytes, or, with
   * `options.unterminated`, a frame that ran past `maxFrame` bytes without its delimiter.
   *
   * @example
   * ```ts
   * import { FrameTooLargeError } from "./mod.ts";
   * console.log(new FrameTooLargeError(20, 10).message);
   * // frame of 20 bytes is larger than the maximum of 10 bytes (maxFrame)
   * console.log(new FrameTooLargeError(12, 10, { unterminated: "newline" }).message);
   * // more than the maximum of 10 bytes (maxFrame) arrived without a newline
   * ```
   */
  constructor(size: number, maxFrame: number, options?: FrameTooLargeOptions) {
    super(
      options?.unterminated === undefined
        ? `frame of ${size} bytes is larger than the maximum of ${maxFrame} bytes (maxFrame)`
        : `more than the maximum of ${maxFrame} bytes (maxFrame) arrived without a ` +
          options.unterminated,
      options,
    );
    this.size = size;
    this.maxFrame = maxFrame;
  }
}

/** The peer broke the wire protocol, for example by closing in the middle of a frame. */
export class ProtocolError extends DuctError {}

/** A payload that the chosen framing cannot carry, such as a newline in `line` framing. */
export class InvalidFrameError extends DuctError {}

/** No server answered on the endpoint before the timeout ran out. */
export class ConnectTimeoutError extends DuctError {}

/** Another server is already listening on the endpoint. */
export class AddressInUseError extends DuctError {}

/** The endpoint's path or directory is unsafe to use (foreign owner, symlink, not a socket). */
export class UnsafePathError extends DuctError {}

/** The operating system refused access to the endpoint. */
export class PermissionDeniedError extends DuctError {}

/** The connection is closed: sending or receiving is no longer possible. */
export class ConnectionClosedError extends DuctError {}

/** A Windows API call failed with a Win32 error code that has no more specific class. */
export class Win32Error extends DuctError {
  /** The Win32 error code (`GetLastError`, or the status of an overlapped operation). */
  readonly code: number;

  /**
   * Describes a failed Win32 call: `code` is the error code, `message` says what was being done.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { Win32Error } from "./mod.ts";
   * const error = new Win32Error(231, "cannot connect: all pipe instances are busy (Win32 error 231)");
   * assertEquals(error.code, 231);
   * ```
   */
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A {@linkcode ReliableSender} gave up (no server came back within its timeout, or the server
 * kept closing without confirming anything): `messages` are the ones never confirmed, oldest
 * first, so that nothing is lost silently.
 */
export class UnconfirmedError extends DuctError {
  /** The messages sent (or queued) but never confirmed, in their original order. */
  readonly messages: Uint8Array[];
  /** Why the sender gave up, without the count (`no server came back on NAME within 5 s`). */
  readonly reason: string;

  /**
   * Gives up on `messages`, saying why (`reason`, which the message ends with the count).
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { UnconfirmedError } from "./mod.ts";
   * const error = new UnconfirmedError("no server came back", [new Uint8Array([104, 105])]);
   * assertEquals(error.messages.length, 1);
   * ```
   */
  constructor(reason: string, messages: Uint8Array[], options?: ErrorOptions) {
    const count = messages.length;
    super(`${reason}: ${count} ${count === 1 ? "message was" : "messages were"} never confirmed`, {
      ...options,
    });
    this.messages = messages;
    this.reason = reason;
  }
}

/**
 * A transport failure (`BrokenPipe`, `ConnectionReset`, a Windows pipe error…) as a
 * `ConnectionClosedError`, so that callers catch one class; duct's own errors pass unchanged.
 * Internal: `mod.ts` does not export it.
 *
 * @example
 * ```ts
 * import { assertInstanceOf } from "@std/assert";
 * import { asDuctError, ConnectionClosedError } from "./errors.ts";
 * assertInstanceOf(asDuctError(new Deno.errors.BrokenPipe(), "cannot send"), ConnectionClosedError);
 * ```
 */
export function asDuctError(error: unknown, action: string): unknown {
  if (error instanceof DuctError) return error;
  const gone = error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset;
  const detail = gone
    ? "the peer closed the connection"
    : `the connection failed (${error instanceof Error ? error.message : String(error)})`;
  return new ConnectionClosedError(`${action}: ${detail}`, { cause: error });
}
