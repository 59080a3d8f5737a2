/**
 * Integration tests of `client.ts`: the real client against the real server (or a small
 * scripted server) as subprocesses over a real endpoint.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./_assert.ts";
import { ACK } from "../server.ts";
import { endpointPath, removeSocketFile, uniqueName } from "./_endpoints.ts";
import { CLIENT_SCRIPT, IS_WINDOWS, LIB_URL, Proc } from "./_process.ts";
import { assertOneLineError, hasRawControlBytes, jsonLines, runClient, runServer } from "./_run.ts";
import { Server } from "./_server.ts";

const encoder = new TextEncoder();
const ACK_LINE = ACK;

/** The texts of every message event the server printed, in order. */
function messageTexts(server: Server): unknown[] {
  return server.eventsOf("message").map((e) => e.text ?? { base64: e.base64 });
}

Deno.test("client: --help and --version", async () => {
  const help = await runClient(["--help"]);
  assertEquals(help.code, 0);
  assert(help.stdout.startsWith("Usage: duct-client [options] [MESSAGE...]"), help.stdout);
  for (const option of ["--name", "--framing", "--timeout", "--no-reply", "--json", "--version"]) {
    assertStringIncludes(help.stdout, option);
  }
  assertEquals(help.stderr, "");

  for (const flag of ["--version", "-V"]) {
    const version = await runClient([flag]);
    assertEquals(version.code, 0);
    assertEquals(version.stdout, `duct-client ${config.version}\n`);
    assertEquals(version.stderr, "");
  }
});

Deno.test("client: a wrong command line exits 64 with one line on stderr", async () => {
  const cases: [string[], string][] = [
    [["--bogus", "hi"], "--bogus"],
    [["--framing", "csv", "hi"], '--framing must be one of length, line, nul, not "csv"'],
    [["--timeout", "soon", "hi"], '--timeout takes a number of seconds, not "soon"'],
    [["--timeout=-1", "hi"], '--timeout must be 0 or more seconds, not "-1"'],
    [["--timeout", "-1", "hi"], '--timeout must be 0 or more seconds, not "-1"'],
    [["--max-frame", "-5", "hi"], '--max-frame must be a positive byte count, not "-5"'],
    [["--max-frame", "1Q", "hi"], "--max-frame takes a byte count"],
    [["--name"], "--name"],
    [["--no-reply=yes", "hi"], "--no-reply"],
  ];
  for (const [args, text] of cases) {
    const output = await runClient(args);
    assertEquals(output.code, 64, `${args.join(" ")}: ${output.stderr}`);
    assertOneLineError(output, "duct-client", text);
    assertStringIncludes(output.stderr, "(see --help)");
  }
});

Deno.test("client: --timeout with no server exits 2 naming the endpoint", async () => {
  const name = uniqueName("none");
  const output = await runClient(["--name", name, "--timeout", "0.2", "hello"]);
  assertEquals(output.code, 2);
  assertEquals(
    output.stderr,
    `duct-client: error: no server is listening on ${name} (${endpointPath(name)})\n`,
  );
  assertEquals(output.stdout, "");
});

Deno.test("client: waits within --timeout for a server that is not there yet", async () => {
  const name = uniqueName("late");
  await using client = Proc.script(CLIENT_SCRIPT, ["--name", name, "--timeout", "30", "early"]);
  await using server = await Server.start([], { name });
  const output = await client.output();
  assertEquals(output.code, 0, output.stderr);
  assertEquals(output.lines, [ACK_LINE]);
  await server.waitForCount("disconnected", 1);
  assertEquals(messageTexts(server), ["early"]);
});

Deno.test("client: piped stdin: one message per line, \\r\\n, empty and unterminated lines", async () => {
  await using server = await Server.start();
  const output = await runClient(["--name", server.name], {
    input: "one\r\ntwo\n\nthree words\r\nlast without newline",
  });
  assertEquals(output.code, 0, output.stderr);
  assertEquals(output.stderr, "");
  assertEquals(output.stdout, `${ACK_LINE}\n`.repeat(5));
  await server.waitForCount("disconnected", 1);
  assertEquals(messageTexts(server), ["one", "two", "", "three words", "last without newline"]);
  assertEquals(server.eventsOf("message").map((e) => e.bytes), [3, 3, 0, 11, 20]);
});

Deno.test("client: positional messages are sent instead of stdin", async () => {
  await using server = await Server.start();
  const output = await runClient(["--name", server.name, "hello world", "second", "ünïcode ✓"], {
    input: "ignored\n",
  });
  assertEquals(output.code, 0, output.stderr);
  assertEquals(output.lines, [ACK_LINE, ACK_LINE, ACK_LINE]);
  await server.waitForCount("disconnected", 1);
  assertEquals(messageTexts(server), ["hello world", "second", "ünïcode ✓"]);
});

Deno.test("client: replies as --json events, and piped as data: whole, unescaped, no prefix", async () => {
  await using server = await Server.start(["--reply", "echo"]);
  const binary = Uint8Array.of(0xff, 0x01, 0x1b, 0x41, 0x5c);
  const input = Uint8Array.from([
    ...binary,
    0x0a,
    ...encoder.encode("plain\ntab\there \x1b[1mbold\x7f\n"),
  ]);

  const json = await runClient(["--name", server.name, "--json"], { input });
  assertEquals(json.code, 0, json.stderr);
  assertEquals(jsonLines(json), [
    { event: "reply", base64: btoa(String.fromCharCode(...binary)) },
    { event: "reply", text: "plain" },
    { event: "reply", text: "tab\there \x1b[1mbold\x7f" },
  ]);

  // stdout is a pipe: each payload as it is, then a newline (the terminal's readable form is
  // tested in client_terminal_test.ts).
  const data = await runClient(["--name", server.name], { input });
  assertEquals(data.code, 0, data.stderr);
  assertEquals(data.stdoutBytes, input);

  // One reply far over the 1 KiB a terminal shows, among small ones, arrives whole.
  const big = "x".repeat(300_000);
  const mixed = await runClient(["--name", server.name], { input: `a\n${big}\nb\n` });
  assertEquals(mixed.code, 0, mixed.stderr);
  assertEquals(mixed.stdout, `a\n${big}\nb\n`);
});

Deno.test("client: --no-reply sends to a server that never answers", async () => {
  await using server = await Server.start(["--reply", "none"]);
  const output = await runClient(["--name", server.name, "--no-reply"], { input: "a\nb\nc\n" });
  assertEquals(output.code, 0, output.stderr);
  assertEquals(output.stdout, "");
  assertEquals(output.stderr, "");
  await server.waitForCount("disconnected", 1);
  assertEquals(messageTexts(server), ["a", "b", "c"]);
});

Deno.test("client: each --framing end to end", async (t) => {
  for (const framing of ["length", "line", "nul"]) {
    await t.step(framing, async () => {
      await using server = await Server.start(["--framing", framing, "--reply", "echo"]);
      const args = ["--name", server.name, "--framing", framing, "--json"];
      const output = await runClient(args, { input: "alpha\r\n\nbeta gamma\n☃" });
      assertEquals(output.code, 0, output.stderr);
      const sent = ["alpha", "", "beta gamma", "☃"];
      assertEquals(jsonLines(output), sent.map((text) => ({ event: "reply", text })));
      await server.waitForCount("disconnected", 1);
      assertEquals(messageTexts(server), sent);

      // A NUL byte is payload in length and line framing, a delimiter in nul framing.
      const nul = await runClient(args, { input: "a\0b\n" });
      if (framing === "nul") {
        assertEquals(nul.code, 1);
        assertOneLineError(nul, "duct-client", "cannot contain a NUL byte");
      } else {
        assertEquals(nul.code, 0, nul.stderr);
        assertEquals(jsonLines(nul), [{ event: "reply", text: "a\0b" }]);
      }
    });
  }
});

Deno.test("client: messages the framing cannot carry: all checked before any is sent", async () => {
  await using server = await Server.start(["--framing", "line"]);
  const tooLong = await runClient(["--name", server.name, "--max-frame", "4", "1234", "12345"]);
  assertEquals(tooLong.code, 1);
  assertOneLineError(
    tooLong,
    "duct-client",
    "message 2 of 2: frame of 5 bytes is larger than the maximum of 4 bytes (--max-frame) " +
      "(nothing was sent)",
  );
  const args = ["--name", server.name, "--framing", "line"];
  const newline = await runClient([...args, "hello", "", "with\nnewline"]);
  assertEquals(newline.code, 1);
  assertOneLineError(newline, "duct-client", "message 3 of 3: ");
  assertStringIncludes(newline.stderr, "cannot contain a newline");
  // Neither connected: the next client is the server's first.
  const after = await runClient([...args, "after"]);
  assertEquals(after.code, 0, after.stderr);
  await server.waitForCount("disconnected", 1);
  assertEquals(server.eventsOf("connected").length, 1);
  assertEquals(messageTexts(server), ["after"]);
});

Deno.test("client: a bad stdin line: the lines before it are sent and answered, then exit 1", async () => {
  await using server = await Server.start(["--framing", "nul"]);
  const output = await runClient(["--name", server.name, "--framing", "nul"], {
    input: "one\ntwo\nthr\0ee\nfour\n",
  });
  assertEquals(output.code, 1);
  assertEquals(output.lines, [ACK_LINE, ACK_LINE]);
  assertEquals(
    output.stderr,
    "duct-client: error: line 3 of the input: a payload in nul framing cannot contain a NUL " +
      "byte; use --framing length (the 2 lines before it were sent and answered)\n",
  );
  await server.waitForCount("disconnected", 1);
  assertEquals(messageTexts(server), ["one", "two"]);

  // A line over --max-frame is refused the same way (the decoder finds it).
  const long = await runClient(["--name", server.name, "--framing", "nul", "--max-frame", "30"], {
    input: `short\n${"x".repeat(31)}\nnever\n`,
  });
  assertEquals(long.code, 1);
  assertEquals(long.lines, [ACK_LINE]);
  assertMatch(
    long.stderr,
    /^duct-client: error: line 2 of the input: .*\(the line before it was sent and answered\)\n$/,
  );
});

Deno.test("client: the server killed with replies pending: exit 3, N of M not confirmed", async () => {
  await using server = await Server.start(["--reply", "none"]);
  await using client = Proc.script(CLIENT_SCRIPT, ["--name", server.name], { stdin: "piped" });
  await client.write("one\ntwo\nthree\n");
  await server.waitForCount("message", 3);
  server.kill("SIGKILL");
  await server.output();
  // The client notices once it reads on (here: at the end of its input).
  await client.closeStdin();
  const output = await client.output();
  assertEquals(output.code, 3);
  assertOneLineError(output, "duct-client", ": 3 of 3 messages were not confirmed");
  if (!IS_WINDOWS) {
    assertMatch(output.stderr, /^duct-client: error: the server closed the connection: 3 of 3 /);
  }
});

// A server that answers the first two of five messages, says so, then waits to be killed.
const PARTIAL_SERVER = `
import { listen } from ${JSON.stringify(LIB_URL)};
const listener = await listen({ name: Deno.args[0] });
console.log("listening");
const conn = await listener.accept();
for (let i = 0; i < 5; i++) {
  await conn.receive();
  if (i < 2) await conn.send("ok");
}
console.log("received 5");
setInterval(() => {}, 1 << 30);
`;

Deno.test("client: confirmed replies count: 3 of 5 not confirmed when the server dies", async () => {
  const name = uniqueName("part");
  await using server = Proc.eval(PARTIAL_SERVER, [name]);
  try {
    await server.waitForLine((line) => line === "listening", "the scripted server");
    await using client = Proc.script(CLIENT_SCRIPT, ["--name", name, "--json"], {
      stdin: "piped",
    });
    await client.write("1\n2\n3\n4\n5\n");
    await server.waitForLine((line) => line === "received 5", "five messages");
    await client.until(() => client.lines.length === 2, "two replies");
    server.kill("SIGKILL");
    await server.output();
    await client.closeStdin();
    const output = await client.output();
    assertEquals(output.code, 3);
    assertEquals(jsonLines(output), [
      { event: "reply", text: "ok" },
      { event: "reply", text: "ok" },
    ]);
    assertMatch(
      output.stderr,
      // The client may notice the server left before its stdin ends: then it says so too.
      /^duct-client: error: [^\n]*: 3 of 5 messages were not confirmed(; the rest of the input was not sent)?\n$/,
    );
  } finally {
    server.kill("SIGKILL");
    await server.output();
    await removeSocketFile(endpointPath(name));
  }
});

Deno.test({
  name:
    "client: stops waiting for input once the server has gone; all answered, input left: exit 5",
  ignore: IS_WINDOWS,
  async fn() {
    const name = uniqueName("gone");
    await using server = await Server.start(["--name", name]);
    await using client = Proc.script(CLIENT_SCRIPT, ["--name", name, "--json"], {
      stdin: "piped",
    });
    await client.write("first\n");
    await client.until(() => client.lines.length === 1, "the first reply");
    server.kill("SIGTERM");
    // stdin stays open: the client must end on its own, like `tail -f | duct-client`.
    await client.waitForExit("the client ending while its stdin is open");
    const output = await client.output();
    // Every message sent was answered, but the input was not all sent: a crashed or stopped
    // server must not look like success to a script.
    assertEquals(output.code, 5);
    assertEquals(
      output.stderr,
      "duct-client: error: server closed the connection (the 1 message sent was answered); " +
        "the rest of the input was not sent\n",
    );
  },
});

Deno.test("client and server: control characters in --name are escaped in error lines", async () => {
  const name = `${uniqueName("ctl")}\x1b[31m\x07`;
  const shown = (text: string) => text.replaceAll("\x1b", "\\x1b").replaceAll("\x07", "\\x07");
  const client = await runClient(["--name", name, "--timeout", "0", "hi"]);
  assertEquals(client.code, 2, client.stderr);
  assertOneLineError(client, "duct-client", `no server is listening on ${shown(name)}`);
  assert(!hasRawControlBytes(new TextEncoder().encode(client.stderr)), client.stderr);
  if (IS_WINDOWS) return; // Any pipe name is valid there: no refusal to look at.
  // A path whose directory is missing: the server's refusal names it, escaped too.
  const path = `/nonexistent-${name}/x.sock`;
  const server = await runServer(["--name", path]);
  assertOneLineError(server, "duct-server", `cannot listen on ${shown(path)}`);
  assert(!hasRawControlBytes(new TextEncoder().encode(server.stderr)), server.stderr);
});
