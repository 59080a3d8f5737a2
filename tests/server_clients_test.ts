/**
 * Integration tests of `server.ts` with many and misbehaving clients: a protocol breaker or a
 * client killed mid-frame is dropped alone, a huge length header allocates nothing, and 50
 * concurrent clients each get every reply in order. Real processes over a real endpoint.
 *
 * @module
 */

import { assert, assertEquals, assertNotStrictEquals, assertStringIncludes } from "./_assert.ts";
import { ACK } from "../server.ts";
import { CLIENT_SCRIPT, IS_WINDOWS, LIB_URL, Proc } from "./_process.ts";
import { jsonLines, runClient } from "./_run.ts";
import { readToEnd, writeAll } from "./_raw_peer.ts";
import { Server } from "./_server.ts";

const UNIX_ONLY = { ignore: IS_WINDOWS };

Deno.test("server: a client that breaks the protocol is dropped alone", async () => {
  await using server = await Server.start(["--max-frame", "64"]);
  await using steady = Proc.script(
    CLIENT_SCRIPT,
    ["--name", server.name, "--json"],
    { stdin: "piped" },
  );
  await steady.write("before\n");
  const first = await server.waitForEvent((e) => e.text === "before", "the steady client");

  // The client's own limit is the default 16 MiB, so it sends what the server refuses.
  const breaker = await runClient(["--name", server.name, "x".repeat(100)]);
  assertEquals(breaker.code, 3, breaker.stderr);
  assertStringIncludes(breaker.stderr, "1 of 1 messages were not confirmed");
  const error = await server.waitForEvent((e) => e.event === "error", "the error event");
  assertNotStrictEquals(error.client, first.client);
  assertEquals(error, {
    event: "error",
    client: error.client,
    message: "frame of 100 bytes is larger than the maximum of 64 bytes (--max-frame)",
  });
  await server.waitForEvent(
    (e) => e.event === "disconnected" && e.client === error.client,
    "the breaker's disconnection",
  );
  assertEquals(server.eventsOf("message", error.client as number), []);

  await steady.write("after\n");
  const output = await steady.output();
  assertEquals(output.code, 0, output.stderr);
  assertEquals(jsonLines(output).length, 2);
  await server.waitForEvent(
    (e) => e.event === "disconnected" && e.client === first.client,
    "the steady client's disconnection",
  );
  assertEquals(server.textsOf(first.client as number), ["before", "after"]);
});

Deno.test("server: a huge length header is refused without allocating it", UNIX_ONLY, async () => {
  await using server = await Server.start();
  const conn = await Deno.connect({ transport: "unix", path: server.path });
  try {
    await writeAll(conn, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3));
    assertEquals(await readToEnd(conn), new Uint8Array(0));
  } finally {
    conn.close();
  }
  const error = await server.waitForEvent((e) => e.event === "error", "the error event");
  assertStringIncludes(String(error.message), "frame of 4294967295 bytes is larger than");
  // Still serving.
  const client = await runClient(["--name", server.name, "still there?"]);
  assertEquals(client.code, 0, client.stderr);
});

// Connects with the transport itself, writes the first 10 of 100 announced bytes, says "sent"
// and waits to be killed.
const PARTIAL_FRAME_CLIENT = `
import { platformTransport, resolveEndpoint } from ${JSON.stringify(LIB_URL)};
const endpoint = resolveEndpoint(Deno.args[0]);
const transport = await platformTransport();
const conn = await transport.connect({ name: endpoint.name, path: endpoint.path, timeout: 20000 });
const frame = new Uint8Array(14).fill(0x78);
frame.set([0, 0, 0, 100]);
for (let offset = 0; offset < frame.length;) offset += await conn.write(frame.subarray(offset));
console.log("sent");
setInterval(() => {}, 1 << 30);
`;

Deno.test("server: clients killed mid-frame and mid-stream are dropped while others go on", async () => {
  await using server = await Server.start();
  await using steady = Proc.script(
    CLIENT_SCRIPT,
    ["--name", server.name, "--json"],
    { stdin: "piped" },
  );
  await steady.write("s1\n");
  const steadyId = (await server.waitForEvent((e) => e.text === "s1", "s1")).client;

  // A raw client dies after half a frame.
  await using partial = Proc.eval(PARTIAL_FRAME_CLIENT, [server.name]);
  await partial.waitForLine((line) => line === "sent", "the partial frame");
  const partialId = (await server.waitForEvent(
    (e) => e.event === "connected" && e.client !== steadyId,
    "the partial client's connection",
  )).client;
  partial.kill("SIGKILL");
  await partial.output();
  await server.waitForEvent(
    (e) => e.event === "disconnected" && e.client === partialId,
    "the partial client's disconnection",
  );
  const errors = server.eventsOf("error", partialId as number);
  if (!IS_WINDOWS) {
    assertEquals(errors, [{
      event: "error",
      client: partialId,
      message: "connection closed in the middle of a frame (10 of 100 bytes)",
    }], `every event: ${JSON.stringify(server.events)}`);
  }
  assertEquals(server.eventsOf("message", partialId as number), []);

  // A real client dies between messages, with replies still coming to it.
  await using victim = Proc.script(
    CLIENT_SCRIPT,
    ["--name", server.name],
    { stdin: "piped" },
  );
  await victim.write("v1\nv2\n");
  const victimId = (await server.waitForEvent((e) => e.text === "v2", "v2")).client;
  victim.kill("SIGKILL");
  await victim.output();
  await server.waitForEvent(
    (e) => e.event === "disconnected" && e.client === victimId,
    "the killed client's disconnection",
  );

  // The steady client was served throughout.
  await steady.write("s2\ns3");
  const output = await steady.output();
  assertEquals(output.code, 0, output.stderr);
  assertEquals(jsonLines(output), Array(3).fill({ event: "reply", text: ACK }));
  await server.waitForEvent(
    (e) => e.event === "disconnected" && e.client === steadyId,
    "the steady client's disconnection",
  );
  assertEquals(server.textsOf(steadyId as number), ["s1", "s2", "s3"]);
  assertEquals(server.textsOf(victimId as number), ["v1", "v2"]);
});

Deno.test("server: 50 concurrent clients × 200 messages, every reply, per-client order", async () => {
  const CLIENTS = 50;
  const MESSAGES = 200;
  await using server = await Server.start();
  const expected = Array.from(
    { length: CLIENTS },
    (_, c) => Array.from({ length: MESSAGES }, (_, m) => `client-${c} message-${m}`),
  );
  const outputs = await Promise.all(
    expected.map((lines) =>
      runClient(["--name", server.name, "--json", "--timeout", "30"], {
        input: lines.join("\n") + "\n",
        viaFiles: true,
      })
    ),
  );
  for (const [c, output] of outputs.entries()) {
    assertEquals(output.code, 0, `client ${c}: ${output.stderr}`);
    assertEquals(output.stderr, "");
    const replies = jsonLines(output);
    assertEquals(replies.length, MESSAGES, `client ${c}`);
    assert(
      replies.every((r) => r.event === "reply" && r.text === ACK && Object.keys(r).length === 2),
    );
  }

  await server.waitForCount("disconnected", CLIENTS);
  const byId = new Map<unknown, string[]>();
  for (const event of server.eventsOf("message")) {
    const texts = byId.get(event.client) ?? [];
    texts.push(String(event.text));
    byId.set(event.client, texts);
  }
  assertEquals(byId.size, CLIENTS);
  const seen = new Set<number>();
  for (const texts of byId.values()) {
    const c = Number(/^client-(\d+) /.exec(texts[0])?.[1]);
    assert(!seen.has(c), `client ${c} seen on two connections`);
    seen.add(c);
    assertEquals(texts, expected[c]);
  }
  assertEquals(server.eventsOf("connected").length, CLIENTS);
  assertEquals(server.eventsOf("error"), []);
});
