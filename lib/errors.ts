/**
 * Named errors of duct. Every one extends {@linkcode DuctError}, so a caller can catch them all,
 * and carries a message a user can act on.
 *
 * @module
 */

/** Base class of every error duct throws on purpose. */
export class DuctError extends Error {
  /**
   * @example Catch any duct error
   * ```ts
   * import { DuctError } from "./errors.ts";
   * const error: Error = new DuctError("boom");
   * console.log(error instanceof DuctError); // true
   * ```
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An endpoint name that cannot be used: empty, too long, or containing NUL. */
export class InvalidNameError extends DuctError {}

/** A frame longer than the configured maximum was sent or announced by the peer. */
export class FrameTooLargeError extends DuctError {
  /** The size that was sent or announced, in bytes. */
  readonly size: number;
  /** The configured maximum, in bytes. */
  readonly maxFrame: number;

  /**
   * @example
   * ```ts
   * import { FrameTooLargeError } from "./errors.ts";
   * const error = new FrameTooLargeError(20, 10);
   * console.log(error.message);
   * ```
   */
  constructor(size: number, maxFrame: number, options?: ErrorOptions) {
    super(
      `frame of ${size} bytes is larger than the maximum of ${maxFrame} bytes (--max-frame)`,
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
   * @example
   * ```ts
   * import { Win32Error } from "./errors.ts";
   * const error = new Win32Error(231, "cannot connect: all pipe instances are busy (Win32 error 231)");
   * console.log(error.code); // 231
   * ```
   */
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
