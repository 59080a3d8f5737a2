/**
 * The version printed by `--version`, read from `deno.json` so there is one source of truth.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

/** duct's version, as written in `deno.json`. */
export const VERSION: string = config.version;
