/**
 * Tests of `cli/args.ts`, the command-line parsing both programs share, and of the values the
 * server refuses through it.
 *
 * @module
 */

import { assertEquals, assertThrows } from "./_assert.ts";
import { assertOneLineError, runServer } from "./_run.ts";
import {
  ENDPOINT_OPTIONS,
  endpointArgs,
  parseArgs,
  parseBytes,
  parseCount,
  parseFraming,
  parseSeconds,
  UsageError,
} from "../cli/args.ts";
import { DEFAULT_MAX_FRAME, DEFAULT_NAME, MAX_LENGTH_HEADER } from "../lib/mod.ts";

const OPTIONS = {
  timeout: { type: "string" },
  json: { type: "boolean" },
} as const;

Deno.test("args: a negative value after its option is the option's value, not an option", () => {
  const parsed = parseArgs(["--timeout", "-1", "x"], OPTIONS, { positionals: true });
  assertEquals({ ...parsed.values }, { timeout: "-1" });
  assertEquals(parsed.positionals, ["x"]);
  assertEquals(parseArgs(["--timeout", "-.5"], OPTIONS).values.timeout, "-.5");
  // Only after an option that takes a value, and not after "--".
  assertEquals(
    parseArgs(["--json", "--", "--timeout", "-1"], OPTIONS, { positionals: true }).positionals,
    ["--timeout", "-1"],
  );
  assertThrows(() => parseArgs(["--json", "-1"], OPTIONS), UsageError);
});

Deno.test("args: a value starting with '-' must be joined to its option, and the error says so", () => {
  for (const value of ["-dash", "--json", "-h"]) {
    assertThrows(
      () => parseArgs(["--timeout", value], OPTIONS),
      UsageError,
      `write --timeout=${value} if that is its value`,
    );
    assertEquals(parseArgs([`--timeout=${value}`], OPTIONS).values.timeout, value);
  }
  // "-" alone is a value (stdin, say), as before.
  assertEquals(parseArgs(["--timeout", "-"], OPTIONS).values.timeout, "-");
});

Deno.test("args: strict as before: unknown options, missing values, booleans, positionals", () => {
  const strict = { ...OPTIONS, help: { type: "boolean", short: "h" } } as const;
  const refused: [string[], string][] = [
    [["--bogus"], "Unknown option '--bogus'"],
    [["--no-json"], "Unknown option '--no-json'"],
    [["-hx"], "Unknown option '-x'"],
    [["--timeout"], "Option '--timeout <value>' argument missing"],
    [["--json=yes"], "Option '--json' does not take an argument"],
    [["stray", "--bogus"], "Unexpected argument 'stray'"],
    [["--", "--bogus"], "Unexpected argument '--bogus'"],
  ];
  for (const [args, text] of refused) {
    assertThrows(() => parseArgs(args, strict), UsageError, text, args.join(" "));
  }
  // A word after a boolean stays a positional (@std/cli alone would take "true" as its value),
  // an absent boolean is undefined, the last of a repeated option wins, and "--" ends options.
  const parsed = parseArgs(
    ["-h", "--json", "true", "--timeout", "1", "--timeout=2", "--", "--json"],
    strict,
    { positionals: true },
  );
  assertEquals(parsed.values, { help: true, json: true, timeout: "2" });
  assertEquals(parsed.positionals, ["true", "--json"]);
  assertEquals(parseArgs([], strict).values, {});
});

Deno.test("args: negative sizes and times say the value must be positive", () => {
  assertThrows(
    () => parseBytes("-5", "--max-frame"),
    UsageError,
    '--max-frame must be a positive byte count, not "-5"',
  );
  assertThrows(
    () => parseSeconds("-1", "--timeout"),
    UsageError,
    '--timeout must be 0 or more seconds, not "-1"',
  );
  assertEquals(parseSeconds("0", "--timeout"), 0);
  for (const zero of ["0", "0.0001", "0.0"]) {
    assertThrows(
      () => parseSeconds(zero, "--idle-timeout", { positive: true }),
      UsageError,
      `--idle-timeout must be at least 0.001 seconds, not "${zero}"`,
    );
  }
  assertEquals(parseSeconds("0.25", "--idle-timeout", { positive: true }), 250);
});

Deno.test("args: size units: K, KiB binary, KB decimal", () => {
  assertEquals(parseBytes("64k", "--max-frame"), 65536);
  assertEquals(parseBytes("64KiB", "--max-frame"), 65536);
  assertEquals(parseBytes("64kb", "--max-frame"), 64000);
  assertEquals(parseBytes("2M", "--max-frame"), 2 * 1024 * 1024);
  assertEquals(parseBytes("2MB", "--max-frame"), 2_000_000);
});

Deno.test("args: every size unit, any case, spaces allowed; 0 and plain bytes", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["17", 17],
    ["17b", 17],
    [" 3 K ", 3 * 1024],
    ["1m", 1024 ** 2],
    ["1MiB", 1024 ** 2],
    ["1mb", 1000 ** 2],
    ["3G", 3 * 1024 ** 3],
    ["3gib", 3 * 1024 ** 3],
    ["3GB", 3 * 1000 ** 3],
  ];
  for (const [text, bytes] of cases) assertEquals(parseBytes(text, "--max-frame"), bytes, text);
});

Deno.test("args: a size past its limit, an unknown unit or no number is refused, naming the flag", () => {
  const max = { max: MAX_LENGTH_HEADER };
  assertEquals(parseBytes("4294967295", "--max-frame", max), MAX_LENGTH_HEADER);
  assertThrows(
    () => parseBytes("4G", "--max-frame", max),
    UsageError,
    '--max-frame is at most 4294967295 bytes, not "4G"',
  );
  for (const bad of ["16 TiB", "1.5M", "M", "", "0x10"]) {
    assertThrows(
      () => parseBytes(bad, "--max-frame"),
      UsageError,
      "--max-frame takes a byte count",
    );
  }
});

Deno.test("args: --framing, counts and seconds", () => {
  assertEquals(parseFraming(undefined), "length");
  assertEquals(parseFraming("line"), "line");
  assertThrows(() => parseFraming("xml"), UsageError, "--framing must be one of length, line, nul");
  assertEquals(parseCount(" 8 ", "--window"), 8);
  for (const bad of ["0", "2.5", "x", "-1"]) {
    assertThrows(() => parseCount(bad, "--window"), UsageError);
  }
  assertEquals(parseSeconds("0", "--timeout"), 0);
  assertEquals(parseSeconds("0.0015", "--timeout"), 2);
  assertEquals(parseSeconds(" .5 ", "--timeout"), 500);
  for (const bad of ["0x10", "1e3", "Infinity", "", "1.2.3", "5s"]) {
    assertThrows(() => parseSeconds(bad, "--timeout"), UsageError, "takes a number of seconds");
  }
  assertThrows(
    () => parseSeconds("0", "--idle-timeout", { positive: true }),
    UsageError,
    "at least 0.001",
  );
});

Deno.test("args: the shared --name/--framing/--max-frame spec, with both programs' defaults", () => {
  assertEquals(endpointArgs(parseArgs([], ENDPOINT_OPTIONS).values), {
    name: DEFAULT_NAME,
    framing: "length",
    maxFrame: DEFAULT_MAX_FRAME,
  });
  const { values } = parseArgs(
    ["--name", "x", "--framing", "nul", "--max-frame", "1KiB"],
    ENDPOINT_OPTIONS,
  );
  assertEquals(endpointArgs(values), { name: "x", framing: "nul", maxFrame: 1024 });
  assertThrows(
    () => endpointArgs(parseArgs(["--max-frame", "5G"], ENDPOINT_OPTIONS).values),
    UsageError,
    "--max-frame is at most 4294967295 bytes",
  );
  // 0 would pass only empty messages: refused on the command line (the library allows it).
  assertThrows(
    () => endpointArgs(parseArgs(["--max-frame", "0"], ENDPOINT_OPTIONS).values),
    UsageError,
    '--max-frame must be at least 1 byte, not "0"',
  );
});

Deno.test("args: the server refuses --idle-timeout 0, negative values and --name -dash plainly", async () => {
  const cases: [string[], string][] = [
    [["--idle-timeout", "0"], '--idle-timeout must be at least 0.001 seconds, not "0"'],
    [["--idle-timeout", "-1"], '--idle-timeout must be at least 0.001 seconds, not "-1"'],
    [["--max-frame", "-5"], '--max-frame must be a positive byte count, not "-5"'],
    [["--max-clients", "-2"], '--max-clients takes a whole number of at least 1, not "-2"'],
    [["--name", "-dash"], "Option '--name' is followed by '-dash', which looks like an option"],
  ];
  for (const [args, text] of cases) {
    const output = await runServer(args);
    assertEquals(output.code, 64, `${args.join(" ")}: ${output.stderr}`);
    assertOneLineError(output, "duct-server", text);
  }
});

Deno.test("args: both programs' --help explain the size units", async () => {
  for (const script of ["server", "client"] as const) {
    const output = script === "server"
      ? await runServer(["--help"])
      : await (await import("./_run.ts")).runClient(["--help"]);
    assertEquals(output.code, 0);
    for (const text of ["64k = 65536", "64kb = 64000"]) {
      if (!output.stdout.includes(text)) throw new Error(`${script} --help lacks ${text}`);
    }
  }
});
