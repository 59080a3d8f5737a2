/**
 * Integration tests of how `server.ts` prints: one client's huge message does not hold up the
 * others, and a closed stdout ends the server cleanly.
 *
 * @module
 */

import { assert, assertEquals } from "./_assert.ts";
import { LIB_URL, Proc, Server } from "./_cli.ts";

/** The largest frame the default `--max-frame` (16 MiB) lets through, less one byte. */
const BULK_BYTES = 16 * 1024 * 1024 - 1;
/** A round trip slower than this means one client's message held up another's. */
const INTERACTIVE_MS = 1000;

// Sends three frames of BULK_BYTES 0xff bytes (not UTF-8: the costliest to render), prints
// "sent" once they are written and "done" once all three are answered.
const BULK_CLIENT = `
import { connect } from ${JSON.stringify(LIB_URL)};
const conn = await connect({ name: Deno.args[0], timeout: 20000 });
const frame = new Uint8Array(${BULK_BYTES}).fill(0xff);
await Promise.all([conn.send(frame), conn.send(frame), conn.send(frame)]);
console.log("sent");
for (let i = 0; i < 3; i++) if ((await conn.receive()) === null) throw new Error("closed");
await conn.close();
console.log("done");
`;

// Makes one round trip after another until its stdin ends, then prints how many it made and the
// slowest, in milliseconds, as JSON.
const PING_CLIENT = `
import { connect } from ${JSON.stringify(LIB_URL)};
const conn = await connect({ name: Deno.args[0], timeout: 20000 });
let running = true;
Deno.stdin.readable.pipeTo(new WritableStream()).finally(() => running = false);
let count = 0;
let slowest = 0;
while (running) {
  const start = performance.now();
  await conn.send("ping " + count);
  if ((await conn.receive()) === null) throw new Error("closed");
  slowest = Math.max(slowest, performance.now() - start);
  count++;
}
await conn.close();
console.log(JSON.stringify({ count, slowest }));
`;

for (const json of [false, true]) {
  Deno.test(
    `server${json ? " --json" : ""}: 16 MiB binary frames from one client do not stall ` +
      "another's round trips",
    async () => {
      await using server = await Server.start([], { json });
      await using ping = Proc.eval(PING_CLIENT, [server.name], { stdin: "piped" });
      // The round trips are under way before the first big frame comes.
      await server.waitForLine((line) => /\bping 0\b/.test(line), "the first ping");
      await using bulk = Proc.eval(BULK_CLIENT, [server.name]);
      await bulk.waitForLine((line) => line === "done", "the bulk client's three answers");
      await ping.closeStdin();
      const output = await ping.output();
      assertEquals(output.code, 0, output.stderr);
      const { count, slowest } = JSON.parse(output.lines[0]);
      assert(count > 0, output.stdout);
      assert(
        slowest < INTERACTIVE_MS,
        `a round trip took ${Math.round(slowest)} ms while 16 MiB frames were printed`,
      );
      assertEquals((await bulk.output()).code, 0);

      // Printed as the mode says: text cut to a 1 KiB head and the size, JSON whole.
      if (json) {
        const printed = server.eventsOf("message").filter((e) => e.bytes === BULK_BYTES);
        assertEquals(printed.length, 3);
        const whole = new Uint8Array(BULK_BYTES).fill(0xff).toBase64();
        assert(printed.every((e) => e.base64 === whole), "the whole payload, in base64");
      } else {
        const line = `: ${"\\xff".repeat(1024)}… (${BULK_BYTES} bytes)`;
        assertEquals(server.lines.filter((l) => l.endsWith(line)).length, 3);
      }
    },
  );
}
