/**
 * Escaping for a terminal: payloads, names and paths, and error lines, so that no text from a
 * peer or a command line can drive the terminal or pass for something else.
 *
 * @module
 */

import { PIPE_PREFIX } from "../lib/mod.ts";

/**
 * Escapes control characters (and the backslash) in `text` as `displayPayload` does.
 * With `keepBackslash`, for names and paths (Windows pipe paths are full of backslashes, and
 * doubling them would print a path nobody can paste), only control characters are escaped.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { escapeText } from "./escape.ts";
 * assertEquals(escapeText("a\x1b[2Jb"), "a\\x1b[2Jb");
 * assertEquals(escapeText("\\\\.\\pipe\\x", { keepBackslash: true }), "\\\\.\\pipe\\x");
 * ```
 */
export function escapeText(text: string, options: { keepBackslash?: boolean } = {}): string {
  return text.replace(options.keepBackslash ? CONTROL_ONLY : CONTROL, escapeChar);
}

/**
 * Escapes an endpoint name or path as `displayPayload` escapes a payload (control
 * characters, bidirectional overrides such as U+202E, and the backslash, doubled), except the
 * backslashes of a leading `\\.\pipe\` (a Windows pipe path stays one that can be pasted).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { escapeName } from "./escape.ts";
 * assertEquals(escapeName("back\\slash"), "back\\\\slash");
 * assertEquals(escapeName("\\\\.\\pipe\\a\u202eb"), "\\\\.\\pipe\\a\\u202eb");
 * ```
 */
export function escapeName(name: string): string {
  const prefix = name.toLowerCase().startsWith(PIPE_PREFIX)
    ? name.slice(0, PIPE_PREFIX.length)
    : "";
  return prefix + escapeText(name.slice(prefix.length));
}

const namesShown: string[] = [];

/**
 * Makes `reportError` show these names (the endpoint's name and path) wherever they
 * appear in a message as {@linkcode escapeName} does, so that an error names the endpoint as
 * every other line does. Called once a program knows its endpoint.
 *
 * @example
 * ```ts
 * import { showNamesEscaped } from "./escape.ts";
 * showNamesEscaped("back\\slash", "/tmp/back\\slash.sock");
 * ```
 */
export function showNamesEscaped(...names: string[]): void {
  // Longest first: a path holds its name.
  namesShown.splice(0, namesShown.length, ...names.filter((name) => name !== ""));
  namesShown.sort((a, b) => b.length - a.length);
}

/** `message` with the names shown escaped and everything else only its control characters. */
export function escapeMessage(message: string): string {
  for (const name of namesShown) {
    const at = message.indexOf(name);
    if (at < 0) continue;
    return escapeMessage(message.slice(0, at)) + escapeName(name) +
      escapeMessage(message.slice(at + name.length));
  }
  return escapeText(message.replaceAll("\n", " "), { keepBackslash: true });
}

// C0 controls, DEL, C1 controls, the backslash (so escapes stay unambiguous), the Unicode line
// and paragraph separators, and the bidirectional marks and overrides (U+202E would show a name
// or a payload reversed).
const CONTROL =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\x00-\x1f\x7f-\x9f\\\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_ONLY =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  return NAMED[char] ?? (code < 0x100 ? hexEscape(code) : `\\u${code.toString(16)}`);
}

function hexEscape(code: number): string {
  return `\\x${code.toString(16).padStart(2, "0")}`;
}

/**
 * How each byte of a payload that is not UTF-8 is shown: printable ASCII as is, `\\` for the
 * backslash, `\xNN` for the rest.
 */
export const BYTE_TEXT: readonly string[] = Array.from(
  { length: 256 },
  (_, byte) =>
    byte === 0x5c
      ? "\\\\"
      : byte >= 0x20 && byte < 0x7f
      ? String.fromCharCode(byte)
      : hexEscape(byte),
);
