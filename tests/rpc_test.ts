/**
 * Tests of `lib/rpc.ts` (`RpcPeer`) over in-memory connections: requests both ways, errors and
 * their codes, cancellation both ways, batches, the bounds, closing; a raw side speaks bytes of
 * JSON where the test needs what a well-behaved peer would never send.
 *
 * @module
 */

import { Connection } from "../lib/connection.ts";
import { ConnectionClosedError, ProtocolError } from "../lib/errors.ts";
import { RpcPeer } from "../lib/rpc.ts";
import type { RpcPeerOptions } from "../lib/rpc_types.ts";
import {
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
  REQUEST_CANCELLED,
  RpcError,
} from "../lib/rpc_errors.ts";
import { FRAMINGS } from "../lib/framing.ts";
import type { DuctError } from "../lib/errors.ts";
import { assert, assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { memoryPair, settledSoon, text } from "./_helpers.ts";

/** An `RpcPeer` and, on the other end, a raw connection the test speaks JSON text over. */
function rawPair(options: RpcPeerOptions = {}) {
  const [a, b] = memoryPair();
  const errors: DuctError[] = [];
  const peer = new RpcPeer(new Connection(a), { onError: (e) => errors.push(e), ...options });
  const raw = new Connection(b);
  return {
    peer,
    errors,
    raw,
    send: (value: unknown) => raw.send(typeof value === "string" ? value : JSON.stringify(value)),
    async receive(): Promise<unknown> {
      const frame = await raw.receive();
      return frame === null ? null : JSON.parse(text(frame));
    },
  };
}

function peerPair(framing: (typeof FRAMINGS)[number] = "length", options: RpcPeerOptions = {}) {
  const [a, b] = memoryPair();
  return [
    new RpcPeer(new Connection(a, { framing }), options),
    new RpcPeer(new Connection(b, { framing }), options),
  ] as const;
}

for (const framing of FRAMINGS) {
  Deno.test(`rpc (${framing}): requests both ways, 100 in flight answered in reverse order`, async () => {
    const [client, server] = peerPair(framing);
    const gates: PromiseWithResolvers<void>[] = [];
    server.handle("wait", async (params) => {
      const gate = Promise.withResolvers<void>();
      gates.push(gate);
      if (gates.length === 100) gates.toReversed().forEach((each) => each.resolve());
      await gate.promise;
      return params;
    });
    client.handle("ping", () => "pong");
    const calls = Array.from({ length: 100 }, (_, i) => client.request("wait", [i]));
    assertEquals(await Promise.all(calls), Array.from({ length: 100 }, (_, i) => [i]));
    assertEquals(await server.request("ping"), "pong");
    await client.close();
    await server.closed;
  });
}

Deno.test("rpc: notifications reach their handler and get no reply", async () => {
  const { peer, send, receive } = rawPair();
  const seen: unknown[] = [];
  peer.onNotification("note", (params) => void seen.push(params));
  peer.handle("done", () => seen);
  await send({ jsonrpc: "2.0", method: "note", params: [1] });
  await send({ jsonrpc: "2.0", method: "unknown/note" });
  await send({ jsonrpc: "2.0", id: 1, method: "done" });
  assertEquals(await receive(), { jsonrpc: "2.0", id: 1, result: [[1]] });
  await peer.close();
});

Deno.test("rpc: a thrown RpcError keeps its code; anything else is -32603 without a stack", async () => {
  const { peer, send, receive } = rawPair();
  peer.handle("bad", () => {
    throw new RpcError(INVALID_PARAMS, "need two numbers", { data: { got: 1 } });
  });
  peer.handle("boom", () => {
    throw new Error("disk on fire");
  });
  peer.handle("async", () => Promise.reject(new TypeError("nope")));
  await send({ jsonrpc: "2.0", id: 1, method: "bad" });
  assertEquals(await receive(), {
    jsonrpc: "2.0",
    id: 1,
    error: { code: -32602, message: "need two numbers", data: { got: 1 } },
  });
  await send({ jsonrpc: "2.0", id: "two", method: "boom" });
  const boom = await receive();
  assertEquals(boom, {
    jsonrpc: "2.0",
    id: "two",
    error: { code: INTERNAL_ERROR, message: "disk on fire" },
  });
  await send({ jsonrpc: "2.0", id: 3, method: "async" });
  assertEquals(await receive(), {
    jsonrpc: "2.0",
    id: 3,
    error: { code: INTERNAL_ERROR, message: "nope" },
  });
  await peer.close();
});

Deno.test("rpc: the caller's promise rejects with the peer's RpcError", async () => {
  const [client, server] = peerPair();
  server.handle("bad", () => {
    throw new RpcError(-1, "custom", { data: [1, 2] });
  });
  const error = await assertRejects(() => client.request("bad"), RpcError, "custom");
  assertEquals([error.code, error.data], [-1, [1, 2]]);
  const missing = await assertRejects(() => client.request("nope", {}), RpcError);
  assertEquals([missing.code, missing.message], [METHOD_NOT_FOUND, "Method not found: nope"]);
  await client.close();
});

Deno.test("rpc: the fallback answers unknown methods", async () => {
  const [client, server] = peerPair("line", {
    fallback: (method, params) => ({ method, params }),
  });
  assertEquals(await client.request("any/thing", [1]), { method: "any/thing", params: [1] });
  await client.close();
  await server.closed;
});

Deno.test("rpc: invalid JSON is -32700 with id null, and the connection goes on", async () => {
  const { peer, send, receive } = rawPair();
  peer.handle("echo", (params) => params);
  await send("{not json");
  const parse = await receive() as { id: unknown; error: { code: number } };
  assertEquals([parse.id, parse.error.code], [null, PARSE_ERROR]);
  await send({ jsonrpc: "2.0", id: 9, method: "echo", params: ["still here"] });
  assertEquals(await receive(), { jsonrpc: "2.0", id: 9, result: ["still here"] });
  await peer.close();
});

Deno.test("rpc: invalid request objects are -32600, with their id when it is usable", async () => {
  const { peer, send, receive } = rawPair();
  const cases: [unknown, unknown][] = [
    [{ id: 1, method: "m" }, 1], // no jsonrpc
    [{ jsonrpc: "1.0", id: 2, method: "m" }, 2],
    [{ jsonrpc: "2.0", id: 3, method: 7 }, 3],
    [{ jsonrpc: "2.0", id: 4, method: "m", params: "text" }, 4],
    [{ jsonrpc: "2.0", id: { no: 1 }, method: "m" }, null],
    [42, null],
    [{ jsonrpc: "2.0", id: 5 }, 5],
  ];
  for (const [request, id] of cases) {
    await send(request);
    const reply = await receive() as { id: unknown; error: { code: number } };
    assertEquals([reply.id, reply.error.code], [id, INVALID_REQUEST], JSON.stringify(request));
  }
  await peer.close();
});

Deno.test("rpc: a batch is answered as one array, without its notifications", async () => {
  const { peer, send, receive } = rawPair();
  peer.handle("echo", (params) => params);
  const notes: unknown[] = [];
  peer.onNotification("note", (params) => void notes.push(params));
  await send([
    { jsonrpc: "2.0", id: 1, method: "echo", params: [1] },
    { jsonrpc: "2.0", method: "note", params: ["n"] },
    { jsonrpc: "2.0", id: 2, method: "missing" },
    "junk",
  ]);
  type Reply = { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number } };
  const replies = await receive() as Reply[];
  assertEquals(replies.length, 3);
  assertEquals(replies[0], { jsonrpc: "2.0", id: 1, result: [1] });
  assertEquals([replies[1].id, replies[1].error?.code], [2, METHOD_NOT_FOUND]);
  assertEquals([replies[2].id, replies[2].error?.code], [null, INVALID_REQUEST]);
  assertEquals(notes, [["n"]]);
  // A batch of notifications only gets nothing: the next frame answers the next request.
  await send([{ jsonrpc: "2.0", method: "note", params: [2] }]);
  await send({ jsonrpc: "2.0", id: 3, method: "echo", params: [3] });
  assertEquals(await receive(), { jsonrpc: "2.0", id: 3, result: [3] });
  // An empty batch is one invalid request.
  await send([]);
  const empty = await receive() as { id: unknown; error: { code: number } };
  assertEquals([empty.id, empty.error.code], [null, INVALID_REQUEST]);
  await peer.close();
});

Deno.test("rpc: aborting a request rejects it at once and sends $/cancelRequest", async () => {
  const { peer, send, receive, errors } = rawPair();
  const controller = new AbortController();
  const call = peer.request("slow", [1], { signal: controller.signal });
  const request = await receive() as { id: number };
  controller.abort();
  const error = await assertRejects(() => call, RpcError, "cancelled");
  assertEquals(error.code, REQUEST_CANCELLED);
  assertEquals(await receive(), {
    jsonrpc: "2.0",
    method: "$/cancelRequest",
    params: { id: request.id },
  });
  // The peer's late answer to the cancelled id is expected, not reported as unknown.
  await send({ jsonrpc: "2.0", id: request.id, error: { code: -32800, message: "cancelled" } });
  // A timeout does the same.
  const timed = peer.request("slow", undefined, { timeout: 10 });
  const second = await receive() as { id: number; params?: unknown };
  assert(!("params" in second), "no params member when none are given");
  const late = await assertRejects(() => timed, RpcError, "no response within 10 ms");
  assertEquals(late.code, REQUEST_CANCELLED);
  assertEquals(await receive(), {
    jsonrpc: "2.0",
    method: "$/cancelRequest",
    params: { id: second.id },
  });
  await send({ jsonrpc: "2.0", id: 999, result: 1 });
  await send({ jsonrpc: "2.0", id: "probe", method: "probe" }); // a round trip through the peer
  await receive();
  await peer.close();
  assertEquals(errors.length, 1, errors.map(String).join());
  assert(errors[0] instanceof ProtocolError && errors[0].message.includes("id 999"));
});

Deno.test("rpc: an incoming cancel aborts the handler's signal; the reply is -32800", async () => {
  const { peer, send, receive } = rawPair();
  const aborted = Promise.withResolvers<unknown>();
  peer.handle("forever", (_params, { signal }) => {
    signal.addEventListener("abort", () => aborted.resolve(signal.reason));
    return new Promise(() => {}); // never answers by itself
  });
  peer.handle("quick", () => "done");
  await send({ jsonrpc: "2.0", id: "a", method: "forever" });
  await send({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: "a" } });
  assert((await aborted.promise) instanceof RpcError);
  const reply = await receive() as { id: unknown; error: { code: number } };
  assertEquals([reply.id, reply.error.code], ["a", REQUEST_CANCELLED]);
  // Cancelling a request already answered changes nothing: one reply only.
  await send({ jsonrpc: "2.0", id: 1, method: "quick" });
  assertEquals(await receive(), { jsonrpc: "2.0", id: 1, result: "done" });
  await send({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: 1 } });
  await send({ jsonrpc: "2.0", id: 2, method: "quick" });
  assertEquals(await receive(), { jsonrpc: "2.0", id: 2, result: "done" });
  await peer.close();
});

Deno.test("rpc: maxPending bounds outstanding requests; the next one waits", async () => {
  const { peer, send, receive } = rawPair({ maxPending: 2 });
  const calls = [1, 2, 3].map((n) => peer.request("m", [n]));
  const first = await receive() as { id: number };
  await receive();
  // A round trip through the peer: had the third request been sent, it would come first.
  await send({ jsonrpc: "2.0", id: "probe", method: "probe" });
  const probe = await receive() as { id: unknown; error: { code: number } };
  assertEquals([probe.id, probe.error.code], ["probe", METHOD_NOT_FOUND]);
  await send({ jsonrpc: "2.0", id: first.id, result: "one" });
  const sent = await receive() as { id: number; params: unknown };
  assertEquals(sent.params, [3]);
  assertEquals(await calls[0], "one");
  await peer.close();
  await assertRejects(() => calls[1], ConnectionClosedError);
  await assertRejects(() => calls[2], ConnectionClosedError);
});

Deno.test("rpc: maxConcurrent bounds running handlers; later requests wait in order", async () => {
  const { peer, send, receive } = rawPair({ maxConcurrent: 2 });
  const started: number[] = [];
  const gates = new Map<number, PromiseWithResolvers<void>>();
  let onStart = Promise.withResolvers<void>();
  peer.handle("job", async (params) => {
    const n = (params as number[])[0];
    started.push(n);
    const gate = Promise.withResolvers<void>();
    gates.set(n, gate);
    onStart.resolve();
    await gate.promise;
    return n;
  });
  const startedNext = async () => {
    await onStart.promise;
    onStart = Promise.withResolvers<void>();
  };
  for (let n = 1; n <= 4; n++) await send({ jsonrpc: "2.0", id: n, method: "job", params: [n] });
  await startedNext();
  if (started.length < 2) await startedNext();
  // Both slots taken: 3 and 4 stay unread however long we wait.
  assertStrictEquals(await settledSoon(onStart.promise), false);
  assertEquals(started, [1, 2]);
  gates.get(2)!.resolve();
  assertEquals(await receive(), { jsonrpc: "2.0", id: 2, result: 2 });
  await startedNext();
  assertEquals(started, [1, 2, 3]);
  gates.get(1)!.resolve();
  assertEquals(await receive(), { jsonrpc: "2.0", id: 1, result: 1 });
  await startedNext();
  assertEquals(started, [1, 2, 3, 4]);
  gates.get(3)!.resolve();
  gates.get(4)!.resolve();
  const rest = [await receive(), await receive()].map((r) => (r as { id: number }).id).sort();
  assertEquals(rest, [3, 4]);
  await peer.close();
});

Deno.test("rpc: a peer that closes rejects every outstanding request", async () => {
  const [client, server] = peerPair();
  server.handle("never", () => new Promise(() => {}));
  const calls = [client.request("never"), client.request("never")];
  await server.close();
  for (const call of calls) await assertRejects(() => call, ConnectionClosedError);
  await client.closed;
  await assertRejects(() => client.request("never"), ConnectionClosedError);
  await assertRejects(() => client.notify("x"), ConnectionClosedError);
});

Deno.test("rpc: `await using` closes the peer", async () => {
  const [client, server] = peerPair();
  {
    await using peer = client;
    server.handle("hi", () => "there");
    assertEquals(await peer.request("hi"), "there");
  }
  await server.closed;
});

Deno.test("rpc: a result JSON cannot carry is answered as -32603", async () => {
  const { peer, send, receive } = rawPair();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  peer.handle("cyclic", () => cyclic);
  await send({ jsonrpc: "2.0", id: 1, method: "cyclic" });
  const reply = await receive() as { id: unknown; error: { code: number } };
  assertEquals([reply.id, reply.error.code], [1, INTERNAL_ERROR]);
  await peer.close();
});
