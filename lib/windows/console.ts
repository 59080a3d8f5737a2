/**
 * Console control events for a duct server on Windows.
 *
 * A process started with `CREATE_NEW_PROCESS_GROUP` (as many runners and service wrappers start
 * programs) inherits "ignore Ctrl+C": Windows then delivers no `CTRL_C_EVENT` to any handler, so
 * Deno's `SIGINT` listener would never run and the server could not be stopped by Ctrl+C in its
 * console. {@linkcode handleCtrlC} turns that inherited flag off.
 *
 * Closing the console window, logoff and shutdown (`CTRL_CLOSE_EVENT`, `CTRL_LOGOFF_EVENT`,
 * `CTRL_SHUTDOWN_EVENT`) are not handled: Deno exposes no signal for them, and Windows ends the
 * process a few seconds after delivering them whatever a handler does. A server is then ended like
 * a killed one: clients see the pipe break, and what it had not acked stays unacked (the client
 * reports the unconfirmed count and exits 3).
 *
 * @module
 */

import { kernel32Symbols } from "./ffi.ts";

const FALSE = 0;

/**
 * Lets Ctrl+C reach this process's handlers even if it was started in a new process group
 * (`SetConsoleCtrlHandler(NULL, FALSE)`). Idempotent; returns whether Windows accepted it.
 *
 * @example
 * ```ts ignore
 * import { handleCtrlC } from "./console.ts";
 * handleCtrlC();
 * Deno.addSignalListener("SIGINT", () => console.log("stopping"));
 * ```
 */
export function handleCtrlC(): boolean {
  return kernel32Symbols().SetConsoleCtrlHandler(null, FALSE) !== 0;
}
