/**
 * Integration tests of `server.ts`: its command line, its output, its reply modes and framings,
 * and its endpoint's life (a stale socket reclaimed, a live or foreign one refused, SIGTERM's
 * drain); the real server, real clients (`client.ts` or raw sockets) over a real endpoint.
 * Many and misbehaving clients: `server_clients_test.ts`.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./_assert.ts";
import { ACK } from "../server.ts";
import { endpointPath, removeSocketFile, uniqueName } from "./_endpoints.ts";
import { CLIENT_SCRIPT, IS_WINDOWS, Proc } from "./_process.ts";
import {
  assertOneLineError,
  feedNumberedLines,
  hasRawControlBytes,
  jsonLines,
  runClient,
  runServer,
} from "./_run.ts";
import { readToEnd, writeAll } from "./_raw_peer.ts";
import { Server } from "./_server.ts";
import { connect } from "../lib/mod.ts";

const UNIX_ONLY = { ignore: IS_WINDOWS };
const encoder = new TextEncoder();

/** Bytes to base64, for comparing with `"base64"` fields. */
function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

Deno.test("server: --help and --version", async () => {
  const help = await runServer(["--help"]);
  assertEquals(help.code, 0);
  assert(help.stdout.startsWith("Usage: duct-server [options]"), help.stdout);
  for (const option of ["--name", "--framing", "--max-frame", "--reply", "--json", "--version"]) {
    assertStringIncludes(help.stdout, option);
  }
  assertEquals(help.stderr, "");

  for (const flag of ["--version", "-V"]) {
    const version = await runServer([flag]);
    assertEquals(version.code, 0);
    assertEquals(version.stdout, `duct-server ${config.version}\n`);
    assertEquals(version.stderr, "");
  }
});

Deno.test("server: a wrong command line exits 64 with one line on stderr", async () => {
  const cases: [string[], string][] = [
    [["--bogus"], "--bogus"],
    [["--framing", "xml"], '--framing must be one of length, line, nul, content-length, not "xml"'],
    [["--reply", "maybe"], '--reply must be one of ack, echo, none, not "maybe"'],
    [["--max-frame", "lots"], "--max-frame"],
    // An ack larger than the limit could never be sent (nor accepted by a like-minded client).
    [["--max-frame", "28"], "--max-frame must be at least 29 bytes with --reply ack"],
    [["--name"], "--name"],
    [["stray"], "stray"],
  ];
  for (const [args, text] of cases) {
    const output = await runServer(args);
    assertEquals(output.code, 64, `${args.join(" ")}: ${output.stderr}`);
    assertOneLineError(output, "duct-server", text);
    assertStringIncludes(output.stderr, "(see --help)");
  }
});

Deno.test("server: --json prints one event per line, field by field", async () => {
  await using server = await Server.start();
  const client = await runClient(["--name", server.name, "hello", "héllo wörld", ""]);
  assertEquals(client.code, 0, client.stderr);
  await server.waitForCount("disconnected", 1);

  // Every stdout line is one JSON object.
  const events = server.lines.map((line) => JSON.parse(line));
  assertEquals(events[0], {
    event: "listening",
    name: server.name,
    path: endpointPath(server.name),
  });
  const id = events[1].client;
  assertEquals(typeof id, "number");
  assertEquals(events.slice(1), [
    { event: "connected", client: id },
    { event: "message", client: id, bytes: 5, text: "hello" },
    { event: "message", client: id, bytes: 13, text: "héllo wörld" },
    { event: "message", client: id, bytes: 0, text: "" },
    { event: "disconnected", client: id },
  ]);
});

Deno.test("server: non-UTF-8 payloads: base64 in JSON, \\xNN in text, never raw bytes", async () => {
  // Line 1 is not UTF-8; line 2 is UTF-8 holding control characters (a colour escape, a tab).
  const binary = Uint8Array.of(0xff, 0x01, 0x6f, 0x6b, 0x1b, 0x5c);
  const controls = "red\x1b[31m\ttab\x7f";
  const input = Uint8Array.from([...binary, 0x0a, ...encoder.encode(controls), 0x0a]);

  {
    await using server = await Server.start();
    const client = await runClient(["--name", server.name], { input });
    assertEquals(client.code, 0, client.stderr);
    await server.waitForCount("disconnected", 1);
    const [first, second] = server.eventsOf("message");
    assertEquals(first, {
      event: "message",
      client: first.client,
      bytes: binary.length,
      base64: base64(binary),
    });
    assertEquals(second, {
      event: "message",
      client: first.client,
      bytes: encoder.encode(controls).length,
      text: controls,
    });
  }
  {
    await using server = await Server.start([], { json: false });
    const client = await runClient(["--name", server.name], { input });
    assertEquals(client.code, 0, client.stderr);
    await server.waitForLine((line) => / disconnected$/.test(line), "a disconnection");
    server.kill("SIGKILL");
    const output = await server.output();
    assert(!hasRawControlBytes(output.stdoutBytes), JSON.stringify(output.stdout));
    const id = /^client (\d+) connected$/.exec(output.lines[1])?.[1];
    assert(id !== undefined, output.stdout);
    assertEquals(output.lines.slice(1, 5), [
      `client ${id} connected`,
      `client ${id}: \\xff\\x01ok\\x1b\\\\`,
      `client ${id}: red\\x1b[31m\\ttab\\x7f`,
      `client ${id} disconnected`,
    ]);
    assertEquals(
      output.lines[0],
      `listening on ${server.name} (${endpointPath(server.name)})`,
    );
  }
});

Deno.test("server: --reply ack, echo and none", async (t) => {
  const input = Uint8Array.from([...encoder.encode("one\ntwo\n"), 0xfe, 0x0a]);

  await t.step("ack (the default) answers after printing", async () => {
    await using server = await Server.start();
    const client = await runClient(["--name", server.name, "--json"], { input });
    assertEquals(client.code, 0, client.stderr);
    assertEquals(jsonLines(client), Array(3).fill({ event: "reply", text: ACK }));
    await server.waitForCount("disconnected", 1);
    assertEquals(server.eventsOf("message").map((e) => e.text ?? e.base64), ["one", "two", "/g=="]);
  });

  await t.step("echo answers with the message itself", async () => {
    await using server = await Server.start(["--reply", "echo"]);
    const client = await runClient(["--name", server.name, "--json"], { input });
    assertEquals(client.code, 0, client.stderr);
    assertEquals(jsonLines(client), [
      { event: "reply", text: "one" },
      { event: "reply", text: "two" },
      { event: "reply", base64: "/g==" },
    ]);
  });

  await t.step("none answers nothing (clients use --no-reply)", async () => {
    await using server = await Server.start(["--reply", "none"]);
    const client = await runClient(["--name", server.name, "--no-reply"], { input });
    assertEquals(client.code, 0, client.stderr);
    assertEquals(client.stdout, "");
    await server.waitForCount("disconnected", 1);
    const id = server.eventsOf("connected")[0].client;
    assertEquals(server.textsOf(id as number).slice(0, 2), ["one", "two"]);
    assertEquals(server.eventsOf("message", id as number)[2].base64, "/g==");
  });
});

Deno.test("server: speaks each framing on the wire", UNIX_ONLY, async (t) => {
  const cases = [
    {
      framing: "length",
      send: Uint8Array.of(0, 0, 0, 2, 0x68, 0x69, 0, 0, 0, 0),
      reply: (text: string) => Uint8Array.from([0, 0, 0, text.length, ...encoder.encode(text)]),
      messages: ["hi", ""],
    },
    {
      framing: "line",
      send: encoder.encode("hi\r\nthere\n"),
      reply: (text: string) => encoder.encode(`${text}\n`),
      messages: ["hi", "there"],
    },
    {
      framing: "nul",
      send: encoder.encode("hi\0there\0"),
      reply: (text: string) => encoder.encode(`${text}\0`),
      messages: ["hi", "there"],
    },
  ];
  for (const { framing, send, reply, messages } of cases) {
    await t.step(framing, async () => {
      await using server = await Server.start(["--framing", framing]);
      const conn = await Deno.connect({ transport: "unix", path: server.path });
      try {
        await writeAll(conn, send);
        await conn.closeWrite();
        const expected = new Uint8Array(messages.flatMap(() => [...reply(ACK)]));
        assertEquals(await readToEnd(conn), expected);
      } finally {
        conn.close();
      }
      await server.waitForCount("disconnected", 1);
      assertEquals(server.eventsOf("message").map((e) => e.text), messages);
      assertEquals(server.eventsOf("error"), []);
    });
  }
});

Deno.test("server: reclaims the stale socket of a killed server", UNIX_ONLY, async () => {
  const name = uniqueName("stale");
  await using dead = await Server.start([], { name });
  dead.kill("SIGKILL");
  await dead.output();
  assert((await Deno.lstat(dead.path)).isSocket, "a killed server leaves its socket file");

  await using server = await Server.start([], { name });
  const client = await runClient(["--name", name, "after the crash"]);
  assertEquals(client.code, 0, client.stderr);
  await server.waitForCount("disconnected", 1);
  assertEquals(server.eventsOf("message").map((e) => e.text), ["after the crash"]);
});

Deno.test("server: refuses to start while another server listens", async () => {
  await using server = await Server.start();
  const second = await runServer(["--name", server.name, "--json"]);
  assertEquals(second.code, 2);
  assertEquals(
    second.stderr,
    `duct-server: error: another server is already listening on ${server.name}\n`,
  );
  assertEquals(second.stdout, "");

  // The first server was not disturbed.
  if (!IS_WINDOWS) assert((await Deno.lstat(server.path)).isSocket);
  const client = await runClient(["--name", server.name, "still yours"]);
  assertEquals(client.code, 0, client.stderr);
  // (The refused server's probe may show up as a client that connects and leaves at once.)
  await server.waitForEvent((e) => e.text === "still yours", "the message");
  assertEquals(server.eventsOf("message").map((e) => e.text), ["still yours"]);
});

Deno.test(
  "server: refuses a path that is not a socket and leaves it untouched",
  UNIX_ONLY,
  async () => {
    const name = uniqueName("file");
    const path = endpointPath(name);
    const directory = path.slice(0, path.lastIndexOf("/"));
    await Deno.mkdir(directory, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(path, "precious\n", { mode: 0o644 });
    try {
      const output = await runServer(["--name", name]);
      assertEquals(output.code, 1);
      assertOneLineError(output, "duct-server", `refusing ${path}: it exists and is not a socket`);
      // It is not duct's file (`--name /etc/passwd`): never advise deleting it.
      assert(!/remove|delete/i.test(output.stderr), output.stderr);
      const info = await Deno.lstat(path);
      assert(info.isFile);
      assertEquals(info.mode! & 0o777, 0o644);
      assertEquals(await Deno.readTextFile(path), "precious\n");
    } finally {
      await Deno.remove(path);
    }
  },
);

Deno.test(
  "server: SIGTERM drains: exit 0, socket removed, every printed message acked",
  UNIX_ONLY,
  async () => {
    await using server = await Server.start();
    await using client = Proc.script(
      CLIENT_SCRIPT,
      ["--name", server.name, "--json"],
      { stdin: "piped" },
    );
    // Feed the client until the server is gone, so it is sending when the signal comes.
    const feeder = feedNumberedLines(client);
    await server.waitForCount("message", 500);
    server.kill("SIGTERM");
    const serverOutput = await server.output();
    await feeder.stop();
    const clientOutput = await client.output();

    assertEquals(serverOutput.code, 0, serverOutput.stderr);
    assertEquals(serverOutput.stderr, "");
    let removed = false;
    try {
      await Deno.lstat(server.path);
    } catch (error) {
      removed = error instanceof Deno.errors.NotFound;
    }
    assert(removed, "the socket file is removed");

    const messages = server.eventsOf("message");
    assertEquals(messages.map((e) => e.text), messages.map((_, i) => `m${i}`));
    const replies = jsonLines(clientOutput);
    assertEquals(replies.length, messages.length, "every printed message was acked");
    assert(replies.every((r) => r.text === ACK));
    assertEquals(server.eventsOf("disconnected").length, 1);

    assert(clientOutput.code === 0 || clientOutput.code === 3, clientOutput.stderr);
    if (clientOutput.code === 3) {
      const match = /: (\d+) of (\d+) messages were not confirmed[^\n]*\n$/.exec(
        clientOutput.stderr,
      );
      assert(match !== null, clientOutput.stderr);
      const [unconfirmed, sent] = [Number(match[1]), Number(match[2])];
      assertEquals(sent - unconfirmed, replies.length);
      assertMatch(clientOutput.stderr, /^duct-client: error: [^\n]+\n$/);
    }
    await removeSocketFile(server.path);
  },
);

Deno.test("server: a length header that reads as text (a line client) is named as a framing mismatch", async () => {
  await using server = await Server.start();
  // What socat or nc -U send: a line of text, whose first four bytes become the length header.
  const conn = await connect({ name: server.name, framing: "line" });
  try {
    await conn.send("hello world");
    assertEquals(await conn.receive(), null, "the server closes the connection");
  } finally {
    await conn.close().catch(() => {});
  }
  await server.waitForCount("error", 1);
  assertEquals(
    server.eventsOf("error")[0].message,
    "frame of 1751477356 bytes is larger than the maximum of 16777216 bytes (--max-frame) " +
      '(its length header reads "hell", which looks like text: does the client use another ' +
      "--framing? this server uses length)",
  );
});
