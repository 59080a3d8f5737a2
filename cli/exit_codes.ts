/**
 * Exit statuses shared by both CLIs, and the mapping from errors to them.
 *
 * @module
 */

import { AddressInUseError, ConnectTimeoutError, DuctError } from "../lib/mod.ts";
import { UsageError } from "./args.ts";

/** Success. */
export const EXIT_OK = 0;
/** Any other failure: bad input, protocol error, permission denied, unsafe path. */
export const EXIT_FAILURE = 1;
/** The endpoint is unavailable: no server listening (client), or another one is (server). */
export const EXIT_UNAVAILABLE = 2;
/** The connection dropped before every message was confirmed (client). */
export const EXIT_UNCONFIRMED = 3;
/** The server answered `--call` with a JSON-RPC error response (client). */
export const EXIT_RPC_ERROR = 4;
/**
 * The server closed the connection before the client had sent all of its input, though every
 * message sent was answered (client): a crashed server must not look like success.
 */
export const EXIT_INPUT_LEFT = 5;
/** The command line is wrong (sysexits' EX_USAGE). */
export const EXIT_USAGE = 64;
/** Stopped by Ctrl+C: 128 + SIGINT, what a shell reports for a process SIGINT ended. */
export const EXIT_INTERRUPTED = 130;
/**
 * stdout was closed by its reader (`| head`): 128 + SIGPIPE, the status of a `cat` that SIGPIPE
 * ended. Deno ignores SIGPIPE, so the program exits with it itself, quietly.
 */
export const EXIT_BROKEN_PIPE = 141;

/**
 * The library names its options (`maxFrame`, `framing "length"`); both programs name the flags
 * that set them, so their messages tell the user what to type.
 */
const FLAG_HINTS: [RegExp, string][] = [
  [/\(maxFrame\)/g, "(--max-frame)"],
  [/\bframing "(length|line|nul|content-length)"/g, "--framing $1"],
  [/\bthe same framing\b/g, "the same --framing"],
  [/\ballowOthers\b/g, "--allow-others"],
  [/\(replyTimeout\)/g, "(--reply-timeout)"],
  [/\bmaxClients\b/g, "--max-clients"],
  [/\btrustServer "any"/g, "--trust-server any"],
  [/\bcheck one name by connecting to it\b/g, "check one name with --ping --name NAME"],
];

/**
 * A library error's message in the words of the command line: its option names become the flags
 * that set them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { withFlagHints } from "./exit_codes.ts";
 * assertEquals(withFlagHints("larger than the maximum of 4 bytes (maxFrame)"), "larger than the maximum of 4 bytes (--max-frame)");
 * ```
 */
export function withFlagHints(message: string): string {
  return FLAG_HINTS.reduce((text, [pattern, flag]) => text.replace(pattern, flag), message);
}

/**
 * The exit status for an error that ends a CLI, and its one-line message (library errors in the
 * words of the command line, see {@linkcode withFlagHints}).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { failureOf } from "./exit_codes.ts";
 * assertEquals(failureOf(new Error("boom")), { status: 1, message: "boom" });
 * ```
 */
export function failureOf(error: unknown): { status: number; message: string } {
  if (error instanceof UsageError) {
    return { status: EXIT_USAGE, message: `${error.message} (see --help)` };
  }
  if (error instanceof ConnectTimeoutError || error instanceof AddressInUseError) {
    return { status: EXIT_UNAVAILABLE, message: withFlagHints(error.message) };
  }
  if (error instanceof DuctError) {
    return { status: EXIT_FAILURE, message: withFlagHints(error.message) };
  }
  if (error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset) {
    // The OS text ("Broken pipe (os error 32)") does not say who left.
    return { status: EXIT_FAILURE, message: "the peer closed the connection" };
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return { status: EXIT_FAILURE, message: `permission denied: ${error.message}` };
  }
  if (error instanceof Deno.errors.NotCapable) {
    return { status: EXIT_FAILURE, message: notCapableMessage(error.message) };
  }
  return {
    status: EXIT_FAILURE,
    message: error instanceof Error ? error.message : String(error),
  };
}

/**
 * Deno's refusal of a permission the program was not given, in duct's words. The programs run
 * with every permission they need (`deno task`), so this happens only with an installed command
 * whose permissions were narrowed and fixed at install (docs/install.md): Deno's own advice,
 * "run again with the --allow-read flag", is not something its user can follow.
 *
 * @example
 * ```ts
 * import { assertMatch } from "@std/assert";
 * import { notCapableMessage } from "./exit_codes.ts";
 * const text = 'Requires read access to "/proc", run again with the --allow-read flag';
 * assertMatch(notCapableMessage(text), /^cannot use \/proc: /);
 * ```
 */
export function notCapableMessage(denoMessage: string): string {
  const where = /Requires (?:read|write) access to "(.*)"/.exec(denoMessage)?.[1];
  const fixed = "this duct's permissions were fixed when it was installed (docs/install.md, " +
    '"What the executables may do")';
  if (where !== undefined) {
    return `cannot use ${where}: it is outside the directories this duct may use, as ` +
      `${fixed}; give a plain name (duct's own directory), or a path under /tmp or ` +
      `XDG_RUNTIME_DIR`;
  }
  const what = /Requires (.*?), run again/.exec(denoMessage)?.[1] ?? denoMessage;
  return `this duct may not do what was asked (${what}), as ${fixed}`;
}
