/**
 * Checks of the options `listen`, `connect` and `Connection` take, made once before anything is
 * opened, the same on every platform.
 *
 * @module
 */

import { DEFAULT_NAME } from "./endpoint.ts";
import { DEFAULT_MAX_FRAME, type Framing, FRAMINGS, MAX_LENGTH_HEADER } from "./framing.ts";

/** Default time `connect` waits for a server that is absent or busy: 5 seconds. */
export const DEFAULT_CONNECT_TIMEOUT = 5000;
/** Default unsent bytes past which `send` waits for the transport (backpressure): 1 MiB. */
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/** Every option of `listen`, `connect` and `Connection`, checked and with its default filled. */
export interface ResolvedOptions {
  name: string;
  framing: Framing;
  maxFrame: number;
  highWaterMark: number;
  keepOpenAfterError: boolean;
  allowOthers: boolean;
  /** `undefined`: no limit. */
  maxClients: number | undefined;
  timeout: number;
  signal: AbortSignal | undefined;
}

/**
 * Checks `options` (see {@linkcode checkOptions}) and returns them complete, each absent one
 * with its default: the one place the library's defaults are filled in.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { resolveOptions } from "./options.ts";
 * const options = resolveOptions({ framing: "line" });
 * assertEquals([options.framing, options.maxFrame, options.timeout], ["line", 16 * 1024 * 1024, 5000]);
 * ```
 */
export function resolveOptions(options: Record<string, unknown> = {}): ResolvedOptions {
  checkOptions(options);
  const given = options as Partial<ResolvedOptions>;
  return {
    name: given.name ?? DEFAULT_NAME,
    framing: given.framing ?? "length",
    maxFrame: given.maxFrame ?? DEFAULT_MAX_FRAME,
    highWaterMark: given.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    keepOpenAfterError: given.keepOpenAfterError ?? false,
    allowOthers: given.allowOthers ?? false,
    maxClients: given.maxClients,
    timeout: given.timeout ?? DEFAULT_CONNECT_TIMEOUT,
    signal: given.signal,
  };
}

/**
 * Throws a `TypeError` or `RangeError` naming the first option of `options` that is out of place:
 * `framing` not one of {@linkcode FRAMINGS}, `maxFrame` not a whole number from 0 to
 * {@linkcode MAX_LENGTH_HEADER}, `timeout` negative or not a number, `maxClients` not a whole
 * number of at least 1, `highWaterMark` not a whole number of bytes, `name` not a string, `allowOthers` or
 * `keepOpenAfterError` not a boolean, `signal` not an `AbortSignal`. Absent (`undefined`) options are fine: they take their defaults.
 *
 * @example
 * ```ts
 * import { checkOptions } from "./options.ts";
 * try {
 *   checkOptions({ framing: "xml" });
 * } catch (error) {
 *   console.log((error as Error).message); // framing must be "length", "line" or "nul", not "xml"
 * }
 * ```
 */
export function checkOptions(options: Record<string, unknown>): void {
  const { name, framing, maxFrame, timeout, maxClients, signal } = options;
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(`name must be a string, not ${describe(name)}`);
  }
  if (framing !== undefined && !(FRAMINGS as readonly unknown[]).includes(framing)) {
    const choices = FRAMINGS.map((each) => `"${each}"`);
    const list = `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
    const Class = typeof framing === "string" ? RangeError : TypeError;
    throw new Class(`framing must be ${list}, not ${describe(framing)}`);
  }
  checkInteger("maxFrame", maxFrame, 0, MAX_LENGTH_HEADER, "bytes");
  if (timeout !== undefined) {
    if (typeof timeout !== "number") {
      throw new TypeError(`timeout must be a number of milliseconds, not ${describe(timeout)}`);
    }
    if (!(timeout >= 0)) {
      throw new RangeError(`timeout must be 0 or more milliseconds, not ${timeout}`);
    }
  }
  checkInteger("maxClients", maxClients, 1, Number.MAX_SAFE_INTEGER, "clients");
  checkInteger("highWaterMark", options.highWaterMark, 0, Number.MAX_SAFE_INTEGER, "bytes");
  for (const option of ["allowOthers", "keepOpenAfterError"]) {
    const value = options[option];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`${option} must be a boolean, not ${describe(value)}`);
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`signal must be an AbortSignal, not ${describe(signal)}`);
  }
}

function checkInteger(option: string, value: unknown, min: number, max: number, unit: string) {
  if (value === undefined) return;
  if (typeof value !== "number") {
    throw new TypeError(`${option} must be a number of ${unit}, not ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${option} must be a whole number of ${unit} from ${min} to ${max}, ` +
        `not ${value}`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}
