/**
 * Command-line parsing for both entrypoints, behind one module so that a later switch from
 * `node:util` to `@std/cli` is a one-file change.
 *
 * @module
 */

import { parseArgs as nodeParseArgs } from "node:util";
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_NAME,
  type Framing,
  FRAMINGS,
  MAX_LENGTH_HEADER,
} from "../lib/mod.ts";

/** A mistake in the command line; the entrypoint prints it with a hint to `--help`. */
export class UsageError extends Error {
  /**
   * @example
   * ```ts
   * import { UsageError } from "./args.ts";
   * console.log(new UsageError("unknown option --x").message);
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The declaration of one option. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
}

/** Parsed values: strings and booleans by option name, and the positional arguments. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `args` strictly: unknown options and missing values are {@linkcode UsageError}s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./args.ts";
 * const { values } = parseArgs(["--name", "x"], { name: { type: "string" } });
 * assert.equal(values.name, "x");
 * ```
 */
export function parseArgs(
  args: string[],
  options: Record<string, OptionSpec>,
  config: { positionals?: boolean } = {},
): ParsedArgs {
  try {
    const { values, positionals } = nodeParseArgs({
      args: joinNegativeValues(args, options),
      options,
      strict: true,
      allowPositionals: config.positionals ?? false,
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    // node:util's messages carry advice meant for Node scripts; keep the first sentence.
    throw new UsageError(text.split(/\.\s+(?=[A-Z])|\n/)[0].replace(/\.$/, ""));
  }
}

// node:util takes `--timeout -1` for two options ("argument is ambiguous"): join such a value to
// its option, so that the value's own check can say what is wrong with it.
function joinNegativeValues(args: string[], options: Record<string, OptionSpec>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return [...joined, ...args.slice(i)];
    const next = args[i + 1];
    const spec = arg.startsWith("--") ? options[arg.slice(2)] : undefined;
    if (spec?.type === "string" && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/**
 * Validates a `--framing` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFraming } from "./args.ts";
 * assert.equal(parseFraming("nul"), "nul");
 * ```
 */
export function parseFraming(value: string | boolean | undefined): Framing {
  if (value === undefined) return "length";
  if (typeof value === "string" && (FRAMINGS as readonly string[]).includes(value)) {
    return value as Framing;
  }
  throw new UsageError(`--framing must be one of ${FRAMINGS.join(", ")}, not "${value}"`);
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a byte size such as `65536`, `64KiB` or `16M` (K, M, G are binary; KB, MB, GB decimal).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBytes } from "./args.ts";
 * assert.equal(parseBytes("16MiB", "--max-frame"), 16777216);
 * ```
 */
export function parseBytes(
  value: string,
  flag: string,
  limits: { min?: number; max?: number } = {},
): number {
  if (/^\s*-/.test(value)) {
    throw new UsageError(`${flag} must be a positive byte count, not "${value}"`);
  }
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(`${flag} takes a byte count such as 65536 or 16MiB, not "${value}"`);
  }
  const bytes = Number(match[1]) * unit;
  const max = limits.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(bytes) || bytes > max) {
    throw new UsageError(`${flag} is at most ${max} bytes, not "${value}"`);
  }
  if (bytes < (limits.min ?? 0)) {
    throw new UsageError(`${flag} must be at least ${limits.min} byte, not "${value}"`);
  }
  return bytes;
}

/**
 * Parses a number of seconds (fractions allowed) into milliseconds: at least 0, or more than 0
 * with `{ positive: true }` (for a limit where 0 would act at once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSeconds } from "./args.ts";
 * assert.equal(parseSeconds("1.5", "--timeout"), 1500);
 * ```
 */
export function parseSeconds(
  value: string,
  flag: string,
  limits: { positive?: boolean } = {},
): number {
  const seconds = Number(value);
  // Decimal only: Number() would also take "0x10" or "1e3".
  if (!/^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(value) || !Number.isFinite(seconds)) {
    throw new UsageError(`${flag} takes a number of seconds, not "${value}"`);
  }
  const milliseconds = Math.round(seconds * 1000);
  if (limits.positive ? milliseconds <= 0 : seconds < 0) {
    const bound = limits.positive ? "at least 0.001" : "0 or more";
    throw new UsageError(`${flag} must be ${bound} seconds, not "${value}"`);
  }
  return milliseconds;
}

/**
 * Parses a positive whole number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCount } from "./args.ts";
 * assert.equal(parseCount("8", "--max-clients"), 8);
 * ```
 */
export function parseCount(value: string, flag: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(count) || count < 1) {
    throw new UsageError(`${flag} takes a whole number of at least 1, not "${value}"`);
  }
  return count;
}

/** The options both programs take, with the same meaning: where, how framed, how large. */
export const ENDPOINT_OPTIONS: Record<string, OptionSpec> = {
  name: { type: "string" },
  framing: { type: "string" },
  "max-frame": { type: "string" },
};

/** The lines of both programs' `--help` that explain the size units of `--max-frame`. */
export const SIZE_UNITS_HELP =
  `                         (K, KiB = 1024 bytes but KB = 1000: 64k = 65536, 64kb = 64000;
                         M, MiB, MB and G, GiB, GB likewise)`;

/** The values of {@linkcode ENDPOINT_OPTIONS}, checked and with their defaults. */
export interface EndpointArgs {
  name: string;
  framing: Framing;
  maxFrame: number;
}

/**
 * Reads {@linkcode ENDPOINT_OPTIONS} from parsed values: `--name` (default `testPipe`),
 * `--framing` (default `length`) and `--max-frame` (default 16MiB, at most 4294967295 bytes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endpointArgs, ENDPOINT_OPTIONS, parseArgs } from "./args.ts";
 * const { values } = parseArgs(["--max-frame", "64k"], ENDPOINT_OPTIONS);
 * assert.deepEqual(endpointArgs(values), { name: "testPipe", framing: "length", maxFrame: 65536 });
 * ```
 */
export function endpointArgs(values: ParsedArgs["values"]): EndpointArgs {
  const maxFrame = values["max-frame"];
  return {
    name: typeof values.name === "string" ? values.name : DEFAULT_NAME,
    framing: parseFraming(values.framing),
    maxFrame: typeof maxFrame === "string"
      // 0 would let only empty messages through: a mistake on a command line.
      ? parseBytes(maxFrame, "--max-frame", { min: 1, max: MAX_LENGTH_HEADER })
      : DEFAULT_MAX_FRAME,
  };
}
