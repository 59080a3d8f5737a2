/**
 * `listen`, `connect` and `Connection` refuse out-of-place options with a `TypeError` or
 * `RangeError` naming the option, before anything is opened, on every platform.
 */

import { connect, Connection, listen } from "../lib/mod.ts";
import {
  checkOptions,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  resolveOptions,
} from "../lib/options.ts";
import { DEFAULT_MAX_FRAME, DEFAULT_NAME } from "../lib/mod.ts";
import { assertEquals, assertRejects, assertStringIncludes, assertThrows } from "./_assert.ts";
import { memoryPair } from "./_helpers.ts";

// Each bad value, the error class and the option's name the message must hold.
const BAD: [Record<string, unknown>, typeof RangeError | typeof TypeError, string][] = [
  [
    { framing: "xml" },
    RangeError,
    'framing must be "length", "line", "nul" or "content-length", not "xml"',
  ],
  [{ framing: 1 }, TypeError, "framing must be"],
  [{ maxFrame: -1 }, RangeError, "maxFrame must be a whole number of bytes from 0 to 4294967295"],
  [{ maxFrame: 1.5 }, RangeError, "maxFrame must be a whole number of bytes"],
  [{ maxFrame: 2 ** 32 }, RangeError, "maxFrame"],
  [{ maxFrame: NaN }, RangeError, "maxFrame"],
  [{ maxFrame: "16MiB" }, TypeError, 'maxFrame must be a number of bytes, not "16MiB"'],
  [{ name: 42 }, TypeError, "name must be a string"],
  [{ keepOpenAfterError: 1 }, TypeError, "keepOpenAfterError must be a boolean"],
];
const BAD_LISTEN: typeof BAD = [
  ...BAD,
  [{ maxClients: 0 }, RangeError, "maxClients must be a whole number of clients from 1"],
  [{ maxClients: 2.5 }, RangeError, "maxClients"],
  [{ maxClients: Infinity }, RangeError, "maxClients"],
  [{ allowOthers: "yes" }, TypeError, "allowOthers must be a boolean"],
];
const BAD_CONNECT: typeof BAD = [
  ...BAD,
  [{ timeout: -1 }, RangeError, "timeout must be 0 or more milliseconds, not -1"],
  [{ timeout: NaN }, RangeError, "timeout"],
  [{ timeout: "5s" }, TypeError, "timeout must be a number"],
  [{ signal: {} }, TypeError, "signal must be an AbortSignal"],
  [{ trustServer: "nobody" }, RangeError, 'trustServer must be "self" or "any", not "nobody"'],
  [{ trustServer: true }, TypeError, "trustServer must be"],
];

Deno.test("options: listen refuses each bad option, naming it, before opening anything", async () => {
  for (const [options, Class, message] of BAD_LISTEN) {
    const name = `duct-options-${Deno.pid}`;
    const error = await assertRejects(() => listen({ name, ...options } as never), Class);
    assertStringIncludes(error.message, message, JSON.stringify(options));
  }
});

Deno.test("options: connect refuses each bad option, naming it, without waiting", async () => {
  for (const [options, Class, message] of BAD_CONNECT) {
    // A long timeout that a bad option must not make the test wait for.
    const all = { name: `duct-options-absent-${Deno.pid}`, timeout: 60_000, ...options };
    const error = await assertRejects(() => connect(all as never), Class);
    assertStringIncludes(error.message, message, JSON.stringify(options));
  }
});

Deno.test("options: a Connection refuses a bad framing or maxFrame", () => {
  const [raw] = memoryPair();
  assertThrows(() => new Connection(raw, { framing: "xml" as never }), RangeError, "framing");
  assertThrows(() => new Connection(raw, { maxFrame: -1 }), RangeError, "maxFrame");
});

Deno.test("options: limits and defaults pass", () => {
  checkOptions({});
  checkOptions({ framing: "nul", maxFrame: 0, timeout: 0, maxClients: 1 });
  checkOptions({ maxFrame: 0xffff_ffff, timeout: Infinity, allowOthers: false });
  checkOptions({ signal: new AbortController().signal, name: "x" });
});

Deno.test("options: resolveOptions fills every default once, and keeps what is given", () => {
  assertEquals(resolveOptions(), {
    name: DEFAULT_NAME,
    framing: "length",
    maxFrame: DEFAULT_MAX_FRAME,
    highWaterMark: DEFAULT_HIGH_WATER_MARK,
    keepOpenAfterError: false,
    allowOthers: false,
    maxClients: undefined,
    timeout: DEFAULT_CONNECT_TIMEOUT,
    signal: undefined,
    trustServer: "self",
  });
  const signal = new AbortController().signal;
  const given = {
    name: "x",
    framing: "nul",
    maxFrame: 0,
    highWaterMark: 0,
    keepOpenAfterError: true,
    allowOthers: true,
    maxClients: 3,
    timeout: 0,
    signal,
    trustServer: "any",
  } as const;
  assertEquals(resolveOptions(given), given);
});

Deno.test("options: resolveOptions refuses what checkOptions refuses", () => {
  for (const [options, Class, message] of [...BAD_LISTEN, ...BAD_CONNECT]) {
    assertThrows(() => resolveOptions(options), Class, message);
  }
});

Deno.test("options: a Connection refuses a bad highWaterMark or keepOpenAfterError", () => {
  const [raw] = memoryPair();
  assertThrows(() => new Connection(raw, { highWaterMark: -1 }), RangeError, "highWaterMark");
  assertThrows(
    () => new Connection(raw, { keepOpenAfterError: 1 as never }),
    TypeError,
    "keepOpenAfterError",
  );
});
