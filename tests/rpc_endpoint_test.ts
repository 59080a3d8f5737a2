/**
 * `RpcPeer` and `serve` over real endpoints in every framing: a Unix socket here, a Windows named
 * pipe under Windows (run it under Wine with `bash scripts/test_wine.sh tests/rpc_endpoint_test.ts`).
 *
 * @module
 */

import {
  connect,
  FRAMINGS,
  listen,
  REQUEST_CANCELLED,
  RpcError,
  RpcPeer,
  serve,
} from "../lib/mod.ts";
import { assertEquals, assertRejects } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";

for (const framing of FRAMINGS) {
  Deno.test(`rpc over an endpoint (${framing}): calls both ways, a batch of work, a cancel`, async () => {
    const name = uniqueName(`rpc-${framing}`);
    const listener = await listen({ name, framing });
    const notes: unknown[] = [];
    const served = serve(listener, {
      echo: (params) => params,
      hang: (_params, { signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      callBack: async (params, { peer }) => await peer.request("double", params),
    }, { notifications: { note: (params) => void notes.push(params) } });
    const client = new RpcPeer(await connect({ name, framing }));
    client.handle("double", (params) => (params as number[]).map((n) => n * 2));
    const calls = Array.from({ length: 100 }, (_, i) => client.request("echo", { i }));
    assertEquals(await Promise.all(calls), Array.from({ length: 100 }, (_, i) => ({ i })));
    assertEquals(await client.request("callBack", [1, 2]), [2, 4]);
    await client.notify("note", ["n"]);
    const hang = client.request("hang", {}, { timeout: 20 });
    const error = await assertRejects(() => hang, RpcError);
    assertEquals(error.code, REQUEST_CANCELLED);
    assertEquals(await client.request("echo", ["after"]), ["after"]);
    assertEquals(notes, [["n"]]);
    await client.close();
    listener.close();
    await served;
  });
}
