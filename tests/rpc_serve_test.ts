/**
 * Tests of `lib/rpc_serve.ts` over real endpoints: `serve` gives each connection its own
 * `RpcPeer`, and hostile peers (a 100,000-element batch, a deeply nested object, responses to
 * ids never issued, a handler that never answers, a peer that cancels everything) leave the
 * other connections served.
 *
 * @module
 */

import { connect, type Connection, listen } from "../lib/mod.ts";
import { type DuctError, ProtocolError } from "../lib/errors.ts";
import { RpcPeer } from "../lib/rpc.ts";
import { INTERNAL_ERROR, REQUEST_CANCELLED } from "../lib/rpc_errors.ts";
import { serve } from "../lib/rpc_serve.ts";
import { assert, assertEquals } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { text } from "./_helpers.ts";

async function receiveJson(conn: Connection): Promise<unknown> {
  const frame = await conn.receive();
  assert(frame !== null, "the server closed the connection");
  return JSON.parse(text(frame));
}

Deno.test("serve: hostile peers leave the other connections served", async () => {
  const name = uniqueName("rpc-serve");
  const framing = "content-length";
  const listener = await listen({ name, framing, maxFrame: 64 * 1024 * 1024 });
  const errors: DuctError[] = [];
  const served = serve(listener, {
    echo: (params) => params,
    never: () => new Promise(() => {}),
  }, { onError: (error) => errors.push(error) });
  const options = { name, framing, maxFrame: 64 * 1024 * 1024 } as const;
  const good = new RpcPeer(await connect(options));
  const stillServed = async (label: string) => {
    assertEquals(await good.request("echo", [label]), [label], label);
  };
  await stillServed("start");

  // A 100,000-element batch: answered as one array, in order of the elements.
  const batcher = await connect(options);
  const batch = Array.from({ length: 100_000 }, (_, i) => ({
    jsonrpc: "2.0",
    id: i,
    method: "echo",
    params: [i],
  }));
  await batcher.send(JSON.stringify(batch));
  await stillServed("during the batch");
  const answers = await receiveJson(batcher) as { id: number; result: number[] }[];
  assertEquals(answers.length, 100_000);
  assert(answers.every((answer, i) => answer.id === i && answer.result[0] === i));

  // A deeply nested object: parsed and echoed (or answered -32603 where it cannot be serialized).
  const nester = await connect(options);
  const depth = 1_000_000;
  await nester.send(
    `{"jsonrpc":"2.0","id":1,"method":"echo","params":${"[".repeat(depth)}${"]".repeat(depth)}}`,
  );
  const nested = await receiveJson(nester) as {
    id: number;
    result?: unknown;
    error?: { code: number };
  };
  assertEquals(nested.id, 1);
  assert(Array.isArray(nested.result) || nested.error?.code === INTERNAL_ERROR);
  await stillServed("after the nesting");

  // Responses to ids the server never issued: reported, not thrown; the connection goes on.
  const liar = await connect(options);
  for (let id = 1; id <= 100; id++) {
    await liar.send(JSON.stringify({ jsonrpc: "2.0", id, result: "unasked" }));
  }
  await liar.send(JSON.stringify({ jsonrpc: "2.0", id: "x", method: "echo", params: [1] }));
  assertEquals(await receiveJson(liar), { jsonrpc: "2.0", id: "x", result: [1] });
  assertEquals(errors.filter((error) => error instanceof ProtocolError).length, 100);

  // 1,000 requests whose handler never answers, past maxConcurrent (128): that connection
  // stops being read (backpressure on it alone), the others are served.
  const flooder = await connect(options);
  for (let id = 0; id < 1000; id++) {
    await flooder.send(JSON.stringify({ jsonrpc: "2.0", id, method: "never" }));
  }
  await stillServed("while 1,000 requests hang on another connection");

  // A peer that cancels everything it asked: each is answered -32800, the slots come back,
  // and the connection answers again.
  const canceller = await connect(options);
  for (let id = 0; id < 100; id++) {
    await canceller.send(JSON.stringify({ jsonrpc: "2.0", id, method: "never" }));
  }
  for (let id = 0; id < 100; id++) {
    await canceller.send(
      JSON.stringify({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id } }),
    );
  }
  const cancelled = new Set<number>();
  for (let i = 0; i < 100; i++) {
    const reply = await receiveJson(canceller) as { id: number; error: { code: number } };
    assertEquals(reply.error.code, REQUEST_CANCELLED);
    cancelled.add(reply.id);
  }
  assertEquals(cancelled.size, 100);
  for (let id = 100; id < 300; id++) {
    await canceller.send(JSON.stringify({ jsonrpc: "2.0", id, method: "echo", params: [id] }));
  }
  for (let id = 100; id < 300; id++) {
    assertEquals(await receiveJson(canceller), { jsonrpc: "2.0", id, result: [id] });
  }
  await stillServed("end");

  for (const conn of [batcher, nester, liar, flooder, canceller]) await conn.close();
  await good.close();
  listener.close();
  await served;
});
