/**
 * Terminal styling through `@std/fmt/colors`. Colour is used only on a terminal and never when
 * `NO_COLOR` is set.
 *
 * @module
 */

import { bold, cyan, dim, green, red, yellow } from "jsr:@std/fmt@1.0.10/colors";

/** The styles the CLIs use. */
export type Style = "dim" | "green" | "red" | "yellow" | "cyan" | "bold";

const STYLES: Record<Style, (text: string) => string> = { dim, green, red, yellow, cyan, bold };

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
  // @std/fmt/colors reads NO_COLOR too (Deno.noColor, once); this also sees a later change of it.
  const noColor = (Deno.env.get("NO_COLOR") ?? "") !== "";
  if (noColor || !stream.isTerminal()) return (_style, text) => text;
  return (style, text) => STYLES[style](text);
}
