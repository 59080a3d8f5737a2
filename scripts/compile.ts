/**
 * `deno task compile [--target TARGET] [--out-dir DIR]`: builds the standalone `duct-server` and
 * `duct-client` executables with `deno compile`, each carrying only the permissions it needs
 * (see {@linkcode permissionFlags}).
 *
 * `deno compile` downloads its `denort` runtime for each target once (then keeps it in
 * `$DENO_DIR/dl`); offline, point `DENORT_BIN` at a `denort` of the same Deno version and build
 * that runtime's target only.
 *
 * @module
 */

import { join, resolve } from "@std/path";
import { parseArgs, UsageError } from "../cli/args.ts";
import {
  binaryName,
  hostTarget,
  isTarget,
  permissionFlags,
  type Program,
  PROGRAMS,
  type Target,
  TARGETS,
} from "./targets.ts";

const HELP = `Usage: deno task compile [options]

Builds dist/duct-server-TARGET and dist/duct-client-TARGET (.exe on Windows) for every target,
or for one with --target.

Options:
  --target TARGET   build for TARGET only; one of:
                      ${TARGETS.join("\n                      ")}
                    "host" means the running platform
  --out-dir DIR     write the executables to DIR (default: dist)
  -h, --help        show this help and exit

deno compile downloads its runtime (denort) once per target. Without network access set
DENORT_BIN to a denort binary of this Deno version (${Deno.version.deno}); it is one runtime,
so only its target is built (the host's unless --target says otherwise).`;

/** Where the repository root is, so the task works from any directory. */
const ROOT = new URL("..", import.meta.url);

/** Options of {@linkcode compileProgram}. */
export interface CompileOptions {
  /** Directory the executable is written to. */
  outDir: string;
  /** Extra environment for `deno compile` (e.g. `DENORT_BIN`). */
  env?: Record<string, string>;
}

/**
 * The `deno compile` arguments that build `program` for `target` into `outDir`.
 *
 * @example
 * ```ts
 * import { compileArgs } from "./compile.ts";
 * console.log(compileArgs("duct-client", "aarch64-apple-darwin", "dist").join(" "));
 * ```
 */
export function compileArgs(program: Program, target: Target, outDir: string): string[] {
  return [
    "compile",
    "--target",
    target,
    ...permissionFlags(target),
    "--output",
    join(outDir, binaryName(program, target)),
    PROGRAMS[program],
  ];
}

/**
 * Builds one executable; resolves to its path. `deno compile`'s output goes to stderr as it
 * comes; a failure throws with a hint when the runtime could not be downloaded.
 *
 * @example
 * ```ts ignore
 * import { compileProgram } from "./compile.ts";
 * const path = await compileProgram("duct-server", "x86_64-unknown-linux-gnu", { outDir: "dist" });
 * console.log(path);
 * ```
 */
export async function compileProgram(
  program: Program,
  target: Target,
  options: CompileOptions,
): Promise<string> {
  const args = compileArgs(program, target, options.outDir);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: options.env,
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  // Shown as it comes (download progress), and kept to explain a failure.
  let errors = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stderr) {
    await Deno.stderr.write(chunk);
    errors += decoder.decode(chunk, { stream: true });
  }
  const { code } = await child.status;
  if (code !== 0) {
    const hint = downloadHint(errors);
    throw new Error(
      `deno compile failed for ${binaryName(program, target)} (exit status ${code})` +
        (hint === undefined ? "" : `: ${hint}`),
    );
  }
  return join(options.outDir, binaryName(program, target));
}

/**
 * A one-line hint for a failure that comes from fetching the runtime, else `undefined`.
 *
 * @example
 * ```ts
 * import { downloadHint } from "./compile.ts";
 * console.log(downloadHint("error sending request for url (https://dl.deno.land/...)"));
 * ```
 */
export function downloadHint(message: string): string | undefined {
  if (!/dl\.deno\.land|error sending request|dns error/i.test(message)) return undefined;
  return `deno compile could not download its runtime (denort ${Deno.version.deno}); build ` +
    `where https://dl.deno.land is reachable, or set DENORT_BIN to a denort binary`;
}

function chooseTargets(value: string | boolean | undefined): Target[] {
  if (value === undefined) {
    if (Deno.env.get("DENORT_BIN") === undefined) return [...TARGETS];
    // One runtime can only make executables of its own platform.
    const host = hostTarget();
    if (host === undefined) throw new UsageError("DENORT_BIN is set: pass --target");
    console.error(`DENORT_BIN is set: building ${host} only`);
    return [host];
  }
  const name = value === "host" ? hostTarget() ?? Deno.build.target : String(value);
  if (!isTarget(name)) {
    throw new UsageError(`--target must be one of ${TARGETS.join(", ")}, not "${name}"`);
  }
  return [name];
}

/**
 * Runs the compile task with `args`; resolves to the exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./compile.ts";
 * Deno.exit(await main(["--target", "host"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let targets: Target[];
  let outDir: string;
  try {
    const { values } = parseArgs(args, {
      target: { type: "string" },
      "out-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    targets = chooseTargets(values.target);
    outDir = String(values["out-dir"] ?? "dist");
  } catch (error) {
    console.error(`compile: error: ${(error as Error).message} (see --help)`);
    return 64;
  }
  // Relative to where the user stands, while deno compile runs from the repository root.
  const absoluteOut = resolve(outDir);
  await Deno.mkdir(absoluteOut, { recursive: true });
  for (const target of targets) {
    for (const program of Object.keys(PROGRAMS) as Program[]) {
      try {
        const path = await compileProgram(program, target, { outDir: absoluteOut });
        console.log(`built ${path}`);
      } catch (error) {
        console.error(`compile: error: ${(error as Error).message}`);
        return 1;
      }
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
