/**
 * Tests of `lib/rpc_incoming.ts` (a request being answered: its lazily made signal, its
 * cancellation, ids of either type) and of what settles an outgoing request besides its response
 * (a send that fails, params JSON cannot carry), each of which must free the request's slot.
 *
 * @module
 */

import { Connection } from "../lib/connection.ts";
import { FrameTooLargeError } from "../lib/errors.ts";
import { RpcPeer } from "../lib/rpc.ts";
import { REQUEST_CANCELLED, RpcError } from "../lib/rpc_errors.ts";
import { IncomingRequest } from "../lib/rpc_incoming.ts";
import type { RpcPeer as Peer } from "../lib/rpc.ts";
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { memoryPair, text } from "./_helpers.ts";

function rawPair(maxPending?: number) {
  const [a, b] = memoryPair();
  const peer = new RpcPeer(new Connection(a, { maxFrame: 1024 }), { maxPending });
  const raw = new Connection(b, { maxFrame: 1024 });
  return {
    peer,
    send: (value: unknown) => raw.send(JSON.stringify(value)),
    receive: async (): Promise<unknown> => JSON.parse(text((await raw.receive())!)),
  };
}

Deno.test("rpc incoming: a handler that first reads its signal after the cancel finds it aborted", async () => {
  const { peer, send, receive } = rawPair();
  const gate = Promise.withResolvers<void>();
  const seen = Promise.withResolvers<{ aborted: boolean; reason: unknown }>();
  peer.handle("late", async (_params, context) => {
    await gate.promise;
    // The first look at `signal`: the controller is made now, after the cancel.
    seen.resolve({ aborted: context.signal.aborted, reason: context.signal.reason });
    return "too late";
  });
  peer.handle("quick", () => "done");
  await send({ jsonrpc: "2.0", id: 5, method: "late" });
  await send({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: 5 } });
  const cancelled = await receive() as { id: unknown; error: { code: number } };
  assertEquals([cancelled.id, cancelled.error.code], [5, REQUEST_CANCELLED]);
  gate.resolve();
  const { aborted, reason } = await seen.promise;
  assert(aborted, "the signal made after the cancel is aborted");
  assert(reason instanceof RpcError && reason.code === REQUEST_CANCELLED);
  // The handler's own answer, after the cancel, is not sent: the next reply is the next request's.
  await send({ jsonrpc: "2.0", id: 6, method: "quick" });
  assertEquals(await receive(), { jsonrpc: "2.0", id: 6, result: "done" });
  await peer.close();
});

Deno.test('rpc incoming: ids 1 and "1" are different requests; cancelling one leaves the other', async () => {
  const { peer, send, receive } = rawPair();
  const gates = new Map<unknown, PromiseWithResolvers<string>>();
  peer.handle("wait", (_params, { id }) => {
    const gate = Promise.withResolvers<string>();
    gates.set(id, gate);
    return gate.promise;
  });
  await send({ jsonrpc: "2.0", id: 1, method: "wait" });
  await send({ jsonrpc: "2.0", id: "1", method: "wait" });
  await send({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: "1" } });
  const cancelled = await receive() as { id: unknown; error: { code: number } };
  assertEquals([cancelled.id, cancelled.error.code], ["1", REQUEST_CANCELLED]);
  gates.get(1)!.resolve("number one");
  assertEquals(await receive(), { jsonrpc: "2.0", id: 1, result: "number one" });
  await peer.close();
});

Deno.test("rpc incoming: a sync handler's answer is returned as it is, an async one as a promise", async () => {
  const finished: IncomingRequest[] = [];
  const answerer = { peer: {} as Peer, finished: (r: IncomingRequest) => finished.push(r) };
  const sync = new IncomingRequest("a", answerer);
  assertEquals(sync.run("m", () => 1, undefined), { jsonrpc: "2.0", id: "a", result: 1 });
  assertEquals(finished, [sync]);
  const later = new IncomingRequest(2, answerer);
  const answer = later.run("m", () => Promise.resolve(2), undefined);
  assert(answer instanceof Promise && !later.answered);
  assertEquals(await answer, { jsonrpc: "2.0", id: 2, result: 2 });
  // A cancel after the answer changes nothing, and `finished` was called once per request.
  later.abort(new RpcError(REQUEST_CANCELLED, "late"));
  assertEquals(finished, [sync, later]);
  const unknown = new IncomingRequest(3, answerer);
  const missing = unknown.run("nope", undefined, undefined) as { error: { code: number } };
  assertEquals(missing.error.code, -32601);
});

Deno.test("rpc outgoing: a request whose send fails rejects with the send's error and frees its slot", async () => {
  const { peer, send, receive } = rawPair(1);
  // More than maxFrame (1 KiB): `send` refuses the frame.
  await assertRejects(() => peer.request("big", ["x".repeat(2000)]), FrameTooLargeError);
  // Params JSON cannot carry: refused before anything is sent.
  await assertRejects(() => peer.request("big", [10n]), TypeError);
  // The one slot (maxPending 1) is free again: this request goes out at once.
  const call = peer.request("small", [1]);
  const request = await receive() as { id: number; method: string };
  assertEquals(request.method, "small");
  await send({ jsonrpc: "2.0", id: request.id, result: "ok" });
  assertEquals(await call, "ok");
  await peer.close();
});
