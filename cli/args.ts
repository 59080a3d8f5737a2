/**
 * Command-line parsing for both entrypoints: `@std/cli`'s `parseArgs`, behind a strict check of
 * our own (see {@linkcode parseArgs}).
 *
 * @module
 */

import { parseArgs as stdParseArgs } from "jsr:@std/cli@1.0.32/parse-args";
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
 * Parses `args` strictly: an unknown option, a missing value, a value given to a boolean option
 * and (without `positionals: true`) a positional argument are {@linkcode UsageError}s. A value
 * after its option may be a negative number (`--timeout -1`); any other value starting with `-`
 * must be joined to its option (`--name=-dash`), so that a forgotten value is not mistaken for
 * the option after it. An absent boolean is `undefined`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseArgs } from "./args.ts";
 * const { values } = parseArgs(["--name", "x"], { name: { type: "string" } });
 * assertEquals(values.name, "x");
 * ```
 */
export function parseArgs(
  args: string[],
  options: Record<string, OptionSpec>,
  config: { positionals?: boolean } = {},
): ParsedArgs {
  const { flags, positionals } = normalize(args, options, config.positionals ?? false);
  const names = Object.keys(options);
  // @std/cli has no strict mode, and would take `--json false` as a value of --json: it is given
  // only checked `--key=value` and `--key` flags, and the positionals after "--".
  const parsed = stdParseArgs([...flags, "--", ...positionals], {
    string: names.filter((name) => options[name].type === "string"),
    boolean: names.filter((name) => options[name].type === "boolean"),
    "--": true,
  });
  const values: ParsedArgs["values"] = {};
  for (const name of names) {
    const value = parsed[name];
    // @std/cli sets every absent boolean to false; none of ours can be given as false.
    if (typeof value === "string" || value === true) values[name] = value;
  }
  return { values, positionals: parsed["--"] ?? [] };
}

/** Checks `args` in order against `options`; gives each option as `--key` or `--key=value`. */
function normalize(
  args: string[],
  options: Record<string, OptionSpec>,
  allowPositionals: boolean,
): { flags: string[]; positionals: string[] } {
  const flags: string[] = [];
  const positionals: string[] = [];
  const positional = (arg: string) => {
    if (!allowPositionals) throw new UsageError(`Unexpected argument '${arg}'`);
    positionals.push(arg);
  };
  const shorts = new Map(
    Object.entries(options).flatMap(([name, spec]) => spec.short ? [[spec.short, name]] : []),
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      args.slice(i + 1).forEach(positional);
      break;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      positional(arg);
      continue;
    }
    let name: string;
    let value: string | undefined;
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
      value = equals === -1 ? undefined : arg.slice(equals + 1);
      if (!Object.hasOwn(options, name)) throw new UsageError(`Unknown option '--${name}'`);
    } else {
      // A cluster of short booleans such as -hV; the last letter may take a value.
      const letters = [...arg.slice(1)];
      for (const [j, letter] of letters.entries()) {
        const long = shorts.get(letter);
        if (long === undefined) throw new UsageError(`Unknown option '-${letter}'`);
        if (options[long].type === "string" && j < letters.length - 1) {
          throw new UsageError(`Option '-${letter}' takes a value: give it last, or apart`);
        }
        if (j < letters.length - 1) flags.push(`--${long}`);
      }
      name = shorts.get(letters[letters.length - 1])!;
    }
    const spec = options[name];
    if (spec.type === "boolean") {
      if (value !== undefined) throw new UsageError(`Option '--${name}' does not take an argument`);
      flags.push(`--${name}`);
      continue;
    }
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`Option '--${name} <value>' argument missing`);
      // A negative number is a value (its own check says what is wrong with it); "-" is one too.
      if (next.startsWith("-") && next !== "-" && !/^-[\d.]/.test(next)) {
        throw new UsageError(
          `Option '--${name}' is followed by '${next}', which looks like an option: ` +
            `write --${name}=${next} if that is its value`,
        );
      }
      value = next;
      i++;
    }
    flags.push(`--${name}=${value}`);
  }
  return { flags, positionals };
}

/**
 * Validates a `--framing` value.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseFraming } from "./args.ts";
 * assertEquals(parseFraming("nul"), "nul");
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
 * import { assertEquals } from "@std/assert";
 * import { parseBytes } from "./args.ts";
 * assertEquals(parseBytes("16MiB", "--max-frame"), 16777216);
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
 * import { assertEquals } from "@std/assert";
 * import { parseSeconds } from "./args.ts";
 * assertEquals(parseSeconds("1.5", "--timeout"), 1500);
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
 * import { assertEquals } from "@std/assert";
 * import { parseCount } from "./args.ts";
 * assertEquals(parseCount("8", "--max-clients"), 8);
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
 * import { assertEquals } from "@std/assert";
 * import { endpointArgs, ENDPOINT_OPTIONS, parseArgs } from "./args.ts";
 * const { values } = parseArgs(["--max-frame", "64k"], ENDPOINT_OPTIONS);
 * assertEquals(endpointArgs(values), { name: "testPipe", framing: "length", maxFrame: 65536 });
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
