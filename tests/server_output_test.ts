/**
 * Integration tests of how `server.ts` prints: one client's huge message does not hold up the
 * others, a closed stdout ends the server cleanly, and a long stream of messages does not grow
 * its memory.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./_assert.ts";
import { assertPeakRatio, NOT_LINUX, procStatus } from "./_process_stats.ts";
import { endpointPath, removeSocketFile, uniqueName } from "./_endpoints.ts";
import { CLIENT_SCRIPT, IS_WINDOWS, LIB_URL, Proc, SERVER_SCRIPT } from "./_process.ts";
import { assertOneLineError, hasRawControlBytes, runClient, runServer, writeSeq } from "./_run.ts";
import { Server } from "./_server.ts";

const UNIX_ONLY = { ignore: IS_WINDOWS };
const decoder = new TextDecoder();

/** Whether nothing exists at `path` any more. */
async function isGone(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
}

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

Deno.test("server: a closed stdout ends it with exit 1 and one line; clients see the end", async () => {
  const name = uniqueName("stdout");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVER_SCRIPT, "--name", name],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    // Read up to the listening line, then close the pipe, as `server | head -1` does.
    const reader = child.stdout.getReader();
    let printed = "";
    while (!printed.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      printed += decoder.decode(value);
    }
    assertMatch(printed, /^listening on /);
    await reader.cancel();

    // The server can print neither the connection nor the messages, so it acks none of them and
    // hangs up instead of leaving the client waiting.
    const client = await runClient(["--name", name, "one", "two"]);
    // 3: the server hung up on the connection; 2: it was gone, socket file and all, before the
    // client's second look at the file's owner (made after connecting, to be sure the socket it
    // reached is the one it checked), so the client never took that connection.
    assert([2, 3].includes(client.code), `exit ${client.code}: ${client.stderr}`);
    assertEquals(client.stdout, "");

    const status = await child.status;
    assertEquals(status.code, 1);
    const error = await stderr;
    assertMatch(
      error,
      /^duct-server: error: [^\n]+: events can no longer be printed, so the server stopped\n$/,
    );
    // Windows may report the closed pipe under another error than BrokenPipe.
    if (!IS_WINDOWS) assertStringIncludes(error, ": stdout was closed: ");
    if (!IS_WINDOWS) assert(await isGone(endpointPath(name)), "the socket file is removed");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // It has exited.
    }
    await child.status;
    await stderr;
    await removeSocketFile(endpointPath(name));
  }
});

Deno.test("server: SIGHUP stops it like SIGTERM: exit 0, socket removed", UNIX_ONLY, async () => {
  await using server = await Server.start();
  await using client = Proc.script(CLIENT_SCRIPT, ["--name", server.name, "--json"], {
    stdin: "piped",
  });
  await client.write("before the hangup\n");
  await client.waitForEvent((e) => e.event === "reply", "the ack");
  server.kill("SIGHUP");
  const output = await server.output();
  assertEquals(output.code, 0, output.stderr);
  assertEquals(output.stderr, "");
  assert(await isGone(server.path), "the socket file is removed");
  assertEquals(server.eventsOf("disconnected").length, 1);
  // The client sees the connection end (its exit status is the client's business).
  await client.output();
});

Deno.test("server: control characters in --name are escaped in the listening line", async () => {
  const name = `${uniqueName("ctl")}\x1b[31m\x07`;
  await using server = await Server.start([], { name, json: false });
  server.kill("SIGKILL");
  const output = await server.output();
  assert(!hasRawControlBytes(output.stdoutBytes), JSON.stringify(output.stdout));
  // Control characters escaped; backslashes (a Windows pipe path's) kept as they are.
  const shown = (text: string) => text.replaceAll("\x1b", "\\x1b").replaceAll("\x07", "\\x07");
  assertEquals(output.lines[0], `listening on ${shown(name)} (${shown(endpointPath(name))})`);
  // Killed, the server could not remove its socket file.
  await removeSocketFile(endpointPath(name));
});

Deno.test("server and client: names are escaped as payloads are (backslash, U+202E), in every line", async () => {
  const name = `${uniqueName("bs")}back\\slash\u202e`;
  const path = endpointPath(name);
  // As a payload is shown: the backslash doubled, U+202E as \u202e; a pipe prefix kept.
  const shown = (text: string) => {
    const prefix = text.startsWith("\\\\.\\pipe\\") ? "\\\\.\\pipe\\" : "";
    return prefix +
      text.slice(prefix.length).replaceAll("\\", "\\\\").replaceAll("\u202e", "\\u202e");
  };
  const client = await runClient(["--name", name, "--timeout", "0", "hi"]);
  assertEquals(client.code, 2, client.stderr);
  assertOneLineError(
    client,
    "duct-client",
    `no server is listening on ${shown(name)} (${shown(path)})`,
  );
  await using server = await Server.start([], { name, json: false });
  server.kill("SIGKILL");
  const output = await server.output();
  assertEquals(output.lines[0], `listening on ${shown(name)} (${shown(path)})`);
  await removeSocketFile(path);
});

Deno.test(
  "server: a second server's check shows as a client that connects and leaves (docs/cli.md)",
  UNIX_ONLY,
  async () => {
    await using server = await Server.start();
    const second = await runServer(["--name", server.name]);
    assertEquals(second.code, 2, second.stderr);
    // Only the check has connected: one connected/disconnected pair, nothing in between.
    await server.waitForCount("disconnected", 1);
    const id = server.eventsOf("connected")[0].client;
    assertEquals(server.events.slice(1), [
      { event: "connected", client: id },
      { event: "disconnected", client: id },
    ]);
  },
);

/**
 * Runs a text-mode server under a 64 MiB heap cap, has the client send it `lines` lines and wait
 * for every answer, and resolves with the server's peak resident memory.
 */
async function serverPeak(lines: number): Promise<number> {
  const name = uniqueName("mem");
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--max-old-space-size=64", SERVER_SCRIPT, "--name", name],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = server.stdout.getReader();
  let drained: Promise<void> | undefined;
  try {
    // The listening line, then a line per message, read and dropped.
    for (let seen = ""; !seen.includes("\n");) {
      const { value, done } = await reader.read();
      assert(!done, "the server exited before listening");
      seen += decoder.decode(value);
    }
    drained = (async () => {
      while (!(await reader.read()).done);
    })();
    const client = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLIENT_SCRIPT, "--name", name],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await writeSeq(client.stdin, lines);
    const { code, stderr } = await client.output();
    assertEquals(code, 0, decoder.decode(stderr));
    // Every message was answered, so printed first: the server's peak is behind it.
    return procStatus(server.pid, "VmHWM");
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await drained;
  }
}

Deno.test({
  name: "server: 1,000,000 messages under a 64 MiB heap cap; peak memory within 1.5× of 10,000",
  ignore: NOT_LINUX,
  async fn() {
    await assertPeakRatio(serverPeak, { small: 10_000, large: 1_000_000, ratio: 1.5 });
  },
});
