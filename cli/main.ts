/**
 * The frame shared by both entrypoints: `--help`, `--version`, and one-line errors with the
 * right exit status.
 *
 * @module
 */

import { resolveEndpoint } from "../lib/mod.ts";
import { EXIT_OK, failureOf } from "./exit_codes.ts";
import { reportError, showNamesEscaped } from "./output.ts";
import { VERSION } from "./version.ts";

/** What an entrypoint supplies to {@linkcode runMain}. */
export interface Program<T> {
  /** The program's name, as printed by `--version` and before errors. */
  name: string;
  /** The `--help` text. */
  help: string;
  /** Parses the arguments into options, or asks for help or the version. */
  parse(args: string[]): T | "help" | "version";
  /** The names its errors show escaped (its endpoint's name and path; see `showNamesEscaped`). */
  names?(options: T): string[];
  /** Does the work; resolves to the exit status. */
  run(options: T): Promise<number>;
}

/**
 * Runs a CLI program with `args`; resolves to its exit status, never rejects.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { runMain } from "./main.ts";
 * const status = await runMain({
 *   name: "demo",
 *   help: "Usage: demo",
 *   parse: () => "version" as const,
 *   run: () => Promise.resolve(0),
 * }, []);
 * assertEquals(status, 0);
 * ```
 */
export async function runMain<T>(program: Program<T>, args: string[]): Promise<number> {
  try {
    const options = program.parse(args);
    if (options === "help") {
      console.log(program.help);
      return EXIT_OK;
    }
    if (options === "version") {
      console.log(`${program.name} ${VERSION}`);
      return EXIT_OK;
    }
    showNamesEscaped(...program.names?.(options) ?? []);
    return await program.run(options);
  } catch (error) {
    const { status, message } = failureOf(error);
    return reportError(program.name, message, status);
  }
}

/**
 * An endpoint's name and, when it resolves, its path: what a program's errors show escaped.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { endpointNames } from "./main.ts";
 * assertEquals(endpointNames("x")[0], "x");
 * ```
 */
export function endpointNames(name: string): string[] {
  try {
    return [name, resolveEndpoint(name).path];
  } catch {
    return [name]; // Refused (too long, say): the error that says so names it.
  }
}
