/**
 * Terminal styling behind one module (a later switch to `@std/fmt` is a one-file change).
 * Colour is used only on a terminal and never when `NO_COLOR` is set.
 *
 * @module
 */

import { styleText } from "node:util";

/** The styles the CLIs use. */
export type Style = "dim" | "green" | "red" | "yellow" | "cyan" | "bold";

/**
 * Returns a styling function for a stream: identity unless it is a terminal without `NO_COLOR`.
 *
 * @example
 * ```ts
 * import { stylerFor } from "./style.ts";
 * const style = stylerFor(Deno.stdout);
 * console.log(style("green", "ok"));
 * ```
 */
export function stylerFor(
  stream: { isTerminal(): boolean },
): (style: Style, text: string) => string {
  const noColor = (Deno.env.get("NO_COLOR") ?? "") !== "";
  if (noColor || !stream.isTerminal()) return (_style, text) => text;
  return (style, text) => styleText(style, text, { validateStream: false });
}
