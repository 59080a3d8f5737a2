/**
 * Benchmark driver for duct's JSON-RPC (`RpcPeer`, `serve`), `content-length` framing, as
 * vscode-jsonrpc frames it; run by the harness's RPC part (`bench/_rpc.ts`).
 *
 *   duct_rpc.ts server PATH            serves `echo` (returns its params) on PATH, and a plain
 *                                      echo loop (each frame sent back as it is) on PATH.plain;
 *                                      prints {"ready":true}, exits when stdin ends
 *   duct_rpc.ts bench PATH N INFLIGHT [REPS]  as vscode_jsonrpc.mjs's bench mode: after one
 *                                      warm-up, REPS times N calls of `echo`, INFLIGHT at once,
 *                                      64-byte params; prints {"samples":[calls/s each],
 *                                      "latencies":[…]} (each call's ms, INFLIGHT 1 only)
 *   duct_rpc.ts latency PATH N REPS    after one warm-up, REPS times: N pairs of a plain
 *                                      send+receive round trip of the bytes a call sends, then a
 *                                      single call; prints {"plain":[…],"rpc":[…]} (ms each)
 *
 * @module
 */

import { connect, type Connection, listen, RpcPeer, serve } from "../../lib/mod.ts";
import { timeCalls } from "./_rpc_calls.mjs";

const FRAMING = "content-length";
/** 64 bytes of JSON, `{"x":"xxx…"}`: the params vscode-jsonrpc's driver sends. */
const PARAMS = { x: "x".repeat(56) };

const [mode, path, ...rest] = Deno.args;

if (mode === "server") {
  const rpc = await listen({ name: path, framing: FRAMING });
  const plain = await listen({ name: `${path}.plain`, framing: FRAMING });
  const served = serve(rpc, { echo: (params) => params });
  (async () => {
    for await (const conn of plain) echo(conn).catch(() => {});
  })();
  console.log(JSON.stringify({ ready: true }));
  // Ends when the harness closes stdin.
  for await (const _ of Deno.stdin.readable) { /* drain */ }
  rpc.close();
  plain.close();
  await served;
  Deno.exit(0);
} else if (mode === "bench") {
  const [count, inFlight, reps = 1] = rest.map(Number);
  const peer = new RpcPeer(await connect({ name: path, framing: FRAMING }));
  const timed = await timeCalls(() => peer.request("echo", PARAMS), count, inFlight, reps);
  console.log(JSON.stringify(timed));
  await peer.close();
  Deno.exit(0);
} else if (mode === "latency") {
  const [count, reps] = rest.map(Number);
  const peer = new RpcPeer(await connect({ name: path, framing: FRAMING }));
  const conn = await connect({ name: `${path}.plain`, framing: FRAMING });
  // The bytes of one call, so that both sides move the same frame.
  const request = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "echo", params: PARAMS });
  const plain: number[] = [];
  const rpc: number[] = [];
  // One of each in turn, so that both see the same moments of a shared machine's load (blocks of
  // thousands each were minutes apart in effect: their ratio swung by a third between runs).
  for (let rep = -1; rep < reps; rep++) {
    for (let i = 0; i < count; i++) {
      let sent = performance.now();
      await conn.send(request);
      if (await conn.receive() === null) throw new Error("the plain echo server closed");
      if (rep >= 0) plain.push(performance.now() - sent);
      sent = performance.now();
      await peer.request("echo", PARAMS);
      if (rep >= 0) rpc.push(performance.now() - sent);
    }
  }
  console.log(JSON.stringify({ plain, rpc }));
  await peer.close();
  await conn.close();
  Deno.exit(0);
} else {
  console.error("usage: duct_rpc.ts server PATH | bench PATH N INFLIGHT | latency PATH N REPS");
  Deno.exit(64);
}

async function echo(conn: Connection): Promise<void> {
  for (let message; (message = await conn.receive()) !== null;) await conn.send(message);
  await conn.close();
}
