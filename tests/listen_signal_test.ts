/**
 * `listen({ signal })` (issue 18): aborting closes the listener as `close()` does — the iteration
 * ends, the endpoint is released (on Unix its socket file removed) and connections already
 * accepted stay open; an already aborted signal opens nothing.
 */

import { connect, listen } from "../lib/mod.ts";
import { assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { text } from "./_helpers.ts";
import { IS_WINDOWS } from "./_process.ts";

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("listen({ signal }): abort ends the iteration and releases the endpoint", async () => {
  const name = uniqueName("signal");
  const stop = new AbortController();
  const listener = await listen({ name, signal: stop.signal });
  const path = listener.endpoint.path;
  const served = (async () => {
    const seen: string[] = [];
    for await (const conn of listener) {
      const message = await conn.receive();
      seen.push(text(message!));
      await conn.send(message!);
      stop.abort(); // the first client stops the server; its connection stays open
      assertEquals(text((await conn.receive())!), "second");
      await conn.close();
    }
    return seen;
  })();
  await using client = await connect({ name });
  await client.send("first");
  assertEquals(text((await client.receive())!), "first");
  await client.send("second");
  assertEquals(await served, ["first"]);
  if (!IS_WINDOWS) assertStrictEquals(exists(path), false, "the socket file is removed");
  // The name is free again.
  await using _next = await listen({ name });
});

Deno.test("listen({ signal }): an already aborted signal opens nothing", async () => {
  const name = uniqueName("aborted");
  const reason = new Error("stopped before it started");
  const error = await assertRejects(() => listen({ name, signal: AbortSignal.abort(reason) }));
  assertStrictEquals(error, reason);
  await using listener = await listen({ name });
  assertEquals(listener.endpoint.name, name);
});
