/**
 * Windows named-pipe transport, through the library: refusal of a second server, absent and busy
 * servers, frames larger than the pipe buffer, `ERROR_MORE_DATA`, message boundaries, half-close,
 * operations completing at once, cancellation, and the waiter not holding the process open. Skipped off Windows; run under Wine
 * with `deno task test:wine`.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { LIB_URL, outputWithin, Proc } from "./_process.ts";
import { connect, listen, type Listener } from "../lib/api.ts";
import { resolveEndpoint } from "../lib/endpoint.ts";
import { concat } from "../lib/framing.ts";
import { AddressInUseError, ConnectTimeoutError } from "../lib/errors.ts";
import type { Connection } from "../lib/connection.ts";

const ignore = Deno.build.os !== "windows";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Serves every client with `handler` until the listener closes; resolves when all are done. */
function serve(listener: Listener, handler: (conn: Connection) => Promise<void>): Promise<void> {
  return (async () => {
    const running: Promise<void>[] = [];
    for await (const conn of listener) {
      running.push(handler(conn).finally(() => conn.close()));
    }
    await Promise.all(running);
  })();
}

async function echo(conn: Connection): Promise<void> {
  for (let message; (message = await conn.receive()) !== null;) await conn.send(message);
}

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function transport() {
  return import("../lib/windows/transport.ts").then((module) => module.windowsTransport);
}

Deno.test({
  name: "windows: a second server on the same name is refused; the name frees on close",
  ignore,
  async fn() {
    const name = uniqueName("second");
    const first = await listen({ name });
    const error = await assertRejects(() => listen({ name }), AddressInUseError);
    assertStrictEquals(error.message, `another server is already listening on ${name}`);
    // The refused attempt must not have left an instance behind that a client could reach.
    const client = await connect({ name, timeout: 2000 });
    const conn = await first.accept();
    assert(conn !== null);
    await client.send("still the first server");
    assertEquals(decoder.decode((await conn.receive())!), "still the first server");
    await client.close();
    await conn.close();
    first.close();
    const again = await listen({ name });
    again.close();
  },
});

Deno.test({
  name: "windows: no server: connect retries until the timeout, then ConnectTimeoutError",
  ignore,
  async fn() {
    const name = uniqueName("absent");
    const started = Date.now();
    const error = await assertRejects(() => connect({ name, timeout: 400 }), ConnectTimeoutError);
    const elapsed = Date.now() - started;
    assertStrictEquals(error.message, `no server is listening on ${name} (\\\\.\\pipe\\${name})`);
    assert(elapsed >= 400, `gave up after ${elapsed} ms, before the 400 ms timeout`);
  },
});

Deno.test({
  name: "windows: busy server (maxClients 1): a second client waits, then gets in when one leaves",
  ignore,
  async fn() {
    const name = uniqueName("busy");
    await using listener = await listen({ name, maxClients: 1 });
    const server = serve(listener, echo);
    const first = await connect({ name, timeout: 2000 });
    await first.send("one");
    assertEquals(decoder.decode((await first.receive())!), "one");

    const error = await assertRejects(() => connect({ name, timeout: 300 }), ConnectTimeoutError);
    assertStrictEquals(
      error.message,
      `the server on ${name} (\\\\.\\pipe\\${name}) is full: every pipe instance stayed taken ` +
        `(is it at its maxClients limit?)`,
    );
    assert(String((error.cause as Error).message).includes("ERROR_PIPE_BUSY"));

    // A second server is refused even while every instance of the first is taken.
    const refused = await assertRejects(() => listen({ name }), AddressInUseError);
    assertStrictEquals(refused.message, `another server is already listening on ${name}`);

    const second = connect({ name, timeout: 10_000 });
    await first.close();
    const conn = await second;
    await conn.send("two");
    assertEquals(decoder.decode((await conn.receive())!), "two");
    await conn.close();
    listener.close();
    await server;
  },
});

Deno.test({
  name: "windows: frames far larger than the 64 KiB pipe buffer, in length and nul framing",
  ignore,
  async fn() {
    for (const framing of ["length", "nul"] as const) {
      const name = uniqueName(`big-${framing}`);
      await using listener = await listen({ name, framing });
      const server = serve(listener, echo);
      const conn = await connect({ name, framing, timeout: 2000 });
      // nul framing cannot carry NUL bytes: use letters there.
      const sizes = [256 * 1024 + 7, 3 * 1024 * 1024];
      const frames = sizes.map((size, i) =>
        framing === "nul" ? encoder.encode("ab".repeat(size / 2 + 1).slice(0, size)) : pattern(
          size,
          i,
        )
      );
      // Sent without awaiting: both are in flight, larger than both pipe buffers together.
      const sent = frames.map((frame) => conn.send(frame));
      for (const frame of frames) {
        const back = await conn.receive();
        assert(back !== null, `${framing}: the echo of ${frame.length} bytes never came`);
        assertStrictEquals(back.length, frame.length);
        assert(back.every((byte, i) => byte === frame[i]), `${framing}: bytes differ`);
      }
      await Promise.all(sent);
      await conn.close();
      listener.close();
      await server;
    }
  },
});

Deno.test({
  name: "windows: ERROR_MORE_DATA, and the messages waiting taken by one read, in order",
  ignore,
  async fn() {
    const windows = await transport();
    const name = uniqueName("moredata");
    const { path } = resolveEndpoint(name);
    const listener = await windows.listen({ name, path });
    const accepted = listener.accept();
    const client = await windows.connect({ name, path, timeout: 2000 });
    const server = await accepted;

    const message = pattern(1000, 7);
    assertStrictEquals(await client.write(message), message.length);
    const pieces: Uint8Array[] = [];
    let total = 0;
    while (total < message.length) {
      const buffer = new Uint8Array(64);
      const count = await server.read(buffer);
      assert(count !== null && count > 0, "the message ended early");
      assertLessOrEqual(count, 64);
      pieces.push(buffer.slice(0, count));
      total += count;
    }
    assertStrictEquals(pieces.length, Math.ceil(message.length / 64));
    assertEquals(concat(pieces), message);

    // Messages already waiting are taken by one read, as a byte stream's read takes every byte
    // waiting: with one message per read, an exchange of many small writes never merged again.
    const sent = Array.from({ length: 50 }, (_, i) => `m${i};`);
    for (const each of sent) await client.write(encoder.encode(each));
    const big = new Uint8Array(4096);
    assertEquals(decoder.decode(big.subarray(0, (await server.read(big))!)), sent.join(""));
    // No further than the buffer: the rest of a message comes with the next read, in order.
    await client.write(encoder.encode("first"));
    await client.write(encoder.encode("second"));
    const ten = new Uint8Array(10);
    assertEquals(decoder.decode(ten.subarray(0, (await server.read(ten))!)), "firstsecon");
    assertEquals(decoder.decode(big.subarray(0, (await server.read(big))!)), "d");
    // A closeWrite after messages: they come whole, then the end.
    await client.write(encoder.encode("last"));
    await client.write(encoder.encode("words"));
    await client.closeWrite();
    assertEquals(decoder.decode(big.subarray(0, (await server.read(big))!)), "lastwords");
    assertStrictEquals(await server.read(big), null);
    client.close();
    server.close();
    listener.close();
  },
});

Deno.test({
  name: "windows: closeWrite ends the peer's stream while the other direction stays open",
  ignore,
  async fn() {
    const windows = await transport();
    const name = uniqueName("halfclose");
    const { path } = resolveEndpoint(name);
    const listener = await windows.listen({ name, path });
    const accepted = listener.accept();
    const client = await windows.connect({ name, path, timeout: 2000 });
    const server = await accepted;
    await client.write(encoder.encode("last words"));
    await client.closeWrite();
    const buffer = new Uint8Array(100);
    assertEquals(decoder.decode(buffer.subarray(0, (await server.read(buffer))!)), "last words");
    assertStrictEquals(await server.read(buffer), null);
    await server.write(encoder.encode("reply after the end"));
    const count = await client.read(buffer);
    assertEquals(decoder.decode(buffer.subarray(0, count!)), "reply after the end");
    server.close();
    assertStrictEquals(await client.read(buffer), null);
    client.close();
    listener.close();
  },
});

Deno.test({
  name: "windows: a write with room and a read with a message waiting complete at once, " +
    "without the completion port's waiter",
  ignore,
  async fn() {
    const windows = await transport();
    const { completionPort } = await import("../lib/windows/completion_port.ts");
    const port = completionPort();
    // True successes skip the port on Windows 8+ and under Wine 10 alike; an immediate warning
    // (ERROR_MORE_DATA) skips it only under Wine (Windows 7's rule): on Windows its packet comes.
    assert(port.skipsOnSuccess, "FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is honoured");
    const warning = port.skipsWarnings ? 1 : 0;
    const name = uniqueName("atonce");
    const { path } = resolveEndpoint(name);
    const listener = await windows.listen({ name, path });
    const accepted = listener.accept();
    const client = await windows.connect({ name, path, timeout: 2000 });
    const server = await accepted;
    const atOnce = () => port.settledAtOnce;
    const strays = port.strayPackets;
    const before = atOnce();

    // Settled inside the calls, no packet awaited: a write with room, then a message waiting.
    assertStrictEquals(await client.write(encoder.encode("ready")), 5);
    assertStrictEquals(atOnce(), before + 1);
    const buffer = new Uint8Array(3);
    assertStrictEquals(await server.read(buffer), 3); // ERROR_MORE_DATA at once: "dy" remains
    assertStrictEquals(atOnce(), before + 1 + warning);
    assertEquals(decoder.decode(buffer.subarray(0, (await server.read(buffer))!)), "dy");
    assertStrictEquals(atOnce(), before + 2 + warning);

    // With nothing waiting, the read waits in the kernel and its packet settles it.
    const later = client.read(buffer);
    await server.write(encoder.encode("ok"));
    assertEquals(decoder.decode(buffer.subarray(0, (await later)!)), "ok");
    assertStrictEquals(atOnce(), before + 3 + warning); // the write only
    // Every packet matched the operation it was awaited for: none was skipped wrongly.
    assertStrictEquals(port.strayPackets, strays);
    client.close();
    server.close();
    listener.close();
  },
});

Deno.test({
  name: "windows: close cancels a pending read and a pending accept",
  ignore,
  async fn() {
    const windows = await transport();
    const name = uniqueName("cancel");
    const { path } = resolveEndpoint(name);
    const listener = await windows.listen({ name, path });
    const accepted = listener.accept();
    const client = await windows.connect({ name, path, timeout: 2000 });
    const server = await accepted;
    const pending = client.read(new Uint8Array(16));
    client.close();
    assertStrictEquals(await pending, null);
    // The server sees the client gone.
    assertStrictEquals(await server.read(new Uint8Array(16)), null);
    server.close();

    const waiting = listener.accept();
    listener.close();
    await assertRejects(() => waiting);
    // The cancelled instance is gone with the listener: the name is free again.
    const next = await windows.listen({ name, path });
    next.close();
  },
});

Deno.test({
  name: "windows: the completion-port waiter does not keep a finished program alive",
  ignore,
  async fn() {
    const name = uniqueName("exit");
    const code = `
      import { connect, listen } from ${JSON.stringify(LIB_URL)};
      const name = ${JSON.stringify(name)};
      const listener = await listen({ name });
      const accepted = listener.accept();
      const client = await connect({ name, timeout: 2000 });
      const conn = await accepted;
      await client.send("ping");
      await conn.send(await conn.receive());
      console.log(new TextDecoder().decode(await client.receive()));
      // An idle read stays pending until close cancels it.
      const idle = conn.receive();
      await client.close();
      await idle;
      await conn.close();
      listener.close();
      console.log("closed");
      // No Deno.exit: the program must end because nothing is pending any more.
    `;
    await using proc = Proc.eval(code);
    const output = await outputWithin(proc, 60_000);
    assertEquals(output.lines, ["ping", "closed"], output.stderr);
    assertStrictEquals(output.code, 0, output.stderr);
  },
});

Deno.test({
  name: "windows: pending writes cancelled by close fail cleanly, with GC forced",
  ignore,
  async fn() {
    const name = uniqueName("gc");
    const windowsUrl = new URL("../lib/windows/transport.ts", import.meta.url).href;
    const code = `
      const { windowsTransport } = await import(${JSON.stringify(windowsUrl)});
      const name = ${JSON.stringify(name)};
      const path = ${JSON.stringify(resolveEndpoint(name).path)};
      const listener = await windowsTransport.listen({ name, path });
      const outcomes = new Set();
      for (let round = 0; round < 20; round++) {
        const accepted = listener.accept();
        const client = await windowsTransport.connect({ name, path, timeout: 2000 });
        const server = await accepted;
        // Far larger than the pipe buffer and never read: the write stays pending.
        let big = new Uint8Array(4 << 20).fill(round);
        const writing = client.write(big).then(() => "written", (error) => error.name);
        big = null;
        client.close();
        globalThis.gc();
        globalThis.gc();
        outcomes.add(await writing);
        server.close();
      }
      listener.close();
      console.log([...outcomes].join(","));
    `;
    await using proc = new Proc(["eval", "--v8-flags=--expose-gc", code]);
    const output = await outputWithin(proc, 60_000);
    assertStrictEquals(output.code, 0, output.stderr);
    assertEquals(output.lines, ["ConnectionClosedError"], output.stderr);
  },
});
