/**
 * How many Win32 calls one 64-byte round trip costs each side (issue 10): under Wine each I/O call
 * is a request to `wineserver`, so this count is what the round trip's time is made of. Each side
 * runs in its own process with every FFI symbol wrapped in a counter (`Deno.dlopen` patched before
 * duct loads), and reports the calls made between two points of a steady run of round trips.
 * Skipped off Windows; run under Wine with `deno task test:wine`.
 *
 * @module
 */

import { assert, assertEquals, assertStrictEquals } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { Proc } from "./_process.ts";

const ignore = Deno.build.os !== "windows";
const MOD_URL = new URL("../lib/mod.ts", import.meta.url).href;
/** Round trips before counting starts (connection set-up, first allocations). */
const WARM_UP = 20;
/** Round trips counted. */
const TRIPS = 200;

// Wraps every symbol of every library opened from now on in a counter; `snapshot()` copies them.
const COUNTING = `
  const counts = {};
  const realDlopen = Deno.dlopen;
  Object.defineProperty(Deno, "dlopen", {
    value: (path, definitions) => {
      const library = realDlopen(path, definitions);
      const symbols = {};
      for (const [name, call] of Object.entries(library.symbols)) {
        counts[name] = 0;
        symbols[name] = (...args) => {
          counts[name]++;
          return call(...args);
        };
      }
      return { symbols, close: () => library.close() };
    },
  });
  const snapshot = () => ({ ...counts });
  // Calls per trip between two snapshots, only the symbols that were called.
  const perTrip = (before, after, trips) =>
    Object.fromEntries(
      Object.keys(after)
        .filter((name) => after[name] !== (before[name] ?? 0))
        .sort()
        .map((name) => [name, (after[name] - (before[name] ?? 0)) / trips]),
    );
  const { connect, listen } = await import(${JSON.stringify(MOD_URL)});
`;

/** The README's server loop; counts the calls between receive WARM_UP and receive WARM_UP+TRIPS. */
function serverCode(name: string): string {
  return `${COUNTING}
    const listener = await listen({ name: ${JSON.stringify(name)} });
    console.log("listening");
    const conn = await listener.accept();
    let received = 0;
    let before;
    for (let message; (message = await conn.receive()) !== null;) {
      received++;
      if (received === ${WARM_UP}) before = snapshot();
      if (received === ${
    WARM_UP + TRIPS
  }) console.log(JSON.stringify(perTrip(before, snapshot(), ${TRIPS})));
      await conn.send(message);
    }
    await conn.close();
    await listener.close();
  `;
}

/** The bench's round trip: send 64 bytes, await the reply. */
function clientCode(name: string): string {
  return `${COUNTING}
    const conn = await connect({ name: ${JSON.stringify(name)} });
    const message = new Uint8Array(64);
    let before;
    for (let i = 1; i <= ${WARM_UP + TRIPS}; i++) {
      await conn.send(message);
      if (await conn.receive() === null) throw new Error("the server closed the connection");
      if (i === ${WARM_UP}) before = snapshot();
    }
    console.log(JSON.stringify(perTrip(before, snapshot(), ${TRIPS})));
    await conn.close();
  `;
}

/**
 * The Win32 calls of one round trip, per side: one `NtWriteFile`, which completes at once (no
 * packet), and one `NtReadFile`, which either finds the reply already there (and then looks with
 * `PeekNamedPipe` for more messages waiting behind it, to take them in the same read) or waits in
 * the kernel and completes through the port's waiter: looks at the port from the event loop's thread
 * (`GetQueuedCompletionStatusExNow`, zero timeout) for up to a millisecond, then at most one
 * blocking `GetQueuedCompletionStatusEx` on Deno's pool. Nothing else: statuses of successful
 * operations are not translated through `RtlNtStatusToDosError`, and no `GetLastError` follows an
 * I/O call. Prints what it counted, for bench/README.md.
 */
function checkSide(side: string, calls: Record<string, number>): void {
  console.log(`${side}, calls a round trip: ${JSON.stringify(calls)}`);
  const {
    GetQueuedCompletionStatusEx: waits = 0,
    GetQueuedCompletionStatusExNow: _looks,
    ...io
  } = calls;
  const { PeekNamedPipe: peeks = 0, ...transfers } = io;
  assertEquals(transfers, { NtReadFile: 1, NtWriteFile: 1 }, `${side}: ${JSON.stringify(calls)}`);
  // Only a read that finds its reply already waiting looks for more behind it.
  assert(peeks <= 1, `${side} peeked ${peeks} times a trip: ${JSON.stringify(calls)}`);
  assert(waits <= 1, `${side} blocked ${waits} times a trip: ${JSON.stringify(calls)}`);
}

Deno.test({
  name:
    "windows calls: a 64-byte round trip makes one write, one read and at most one peek and one blocking wait a side",
  ignore,
  async fn() {
    const name = uniqueName("calls");
    await using server = Proc.eval(serverCode(name));
    await server.waitForLine((line) => line === "listening", "the server listening");
    await using client = Proc.eval(clientCode(name));
    const clientOutput = await client.output();
    assertStrictEquals(clientOutput.code, 0, clientOutput.stderr);
    const serverOutput = await server.output();
    assertStrictEquals(serverOutput.code, 0, serverOutput.stderr);
    checkSide("client", JSON.parse(clientOutput.lines.at(-1) ?? "{}"));
    checkSide("server", JSON.parse(serverOutput.lines.at(-1) ?? "{}"));
  },
});
