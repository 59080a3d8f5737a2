/**
 * The Unix transport's `maxClients`: at the limit the listener stops accepting, so extra clients
 * wait in the kernel's accept queue and are served as places free (on Windows they wait for a
 * free pipe instance); once that queue is full, `connect` waits until its timeout.
 */

import { AddressInUseError, ConnectTimeoutError } from "../lib/errors.ts";
import { connect, type Connection, listen } from "../lib/mod.ts";
import { assert, assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { bytes, text } from "./_helpers.ts";

const ignore = Deno.build.os === "windows";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function echoOnce(conn: Connection, message: string): Promise<string> {
  await conn.send(message);
  return text((await conn.receive())!);
}

Deno.test({
  name: "unix: maxClients 2: the third client waits, unserved, until one of the two closes",
  ignore,
  fn: () =>
    withDir(async (dir) => {
      const path = `${dir}/busy.sock`;
      await using listener = await listen({ name: path, maxClients: 2 });
      const clients = await Promise.all([1, 2, 3].map(() => connect({ name: path })));
      const first = (await listener.accept())!;
      const second = (await listener.accept())!;
      let thirdAccepted = false;
      const third = listener.accept().then((conn) => (thirdAccepted = true, conn!));
      // The third client's frame goes out (the kernel queues it) but nobody reads it.
      await clients[2].send("third");
      // Two round trips with the served clients: the third is still not accepted.
      for (const [client, served] of [[clients[0], first], [clients[1], second]]) {
        const reply = echoOnce(client, "ping");
        assertEquals(text((await served.receive())!), "ping");
        await served.send("pong");
        assertEquals(await reply, "pong");
      }
      assert(!thirdAccepted, "a third client was accepted while two were served");
      await first.close();
      const conn = await third;
      assertEquals(await conn.receive(), bytes("third"));
      await conn.send("served");
      assertEquals(text((await clients[2].receive())!), "served");
      for (const each of [...clients, second, conn]) await each.close();
    }),
});

Deno.test({
  name: "unix: maxClients: an accept waiting for a place ends with null when the listener closes",
  ignore,
  fn: () =>
    withDir(async (dir) => {
      const path = `${dir}/close.sock`;
      const listener = await listen({ name: path, maxClients: 1 });
      const client = await connect({ name: path });
      const served = (await listener.accept())!;
      const waiting = listener.accept();
      listener.close();
      assertStrictEquals(await waiting, null);
      await served.close();
      await client.close();
    }),
});

Deno.test({
  name: "unix: a server whose accept queue is full is busy: connect waits out its timeout",
  ignore,
  fn: () =>
    withDir(async (dir) => {
      const path = `${dir}/full.sock`;
      await using listener = await listen({ name: path, maxClients: 1 });
      // Fill the kernel's accept queue (its size is the listen backlog, capped by the system).
      const queued: Deno.UnixConn[] = [];
      try {
        for (;;) queued.push(await Deno.connect({ transport: "unix", path }));
      } catch (error) {
        assert(error instanceof Deno.errors.WouldBlock, String(error));
      }
      try {
        const error = await assertRejects(
          () => connect({ name: path, timeout: 200 }),
          ConnectTimeoutError,
        );
        assertStrictEquals(error.message, `no server is listening on ${path} (${path})`);
        // And a second server sees a live one there.
        await assertRejects(() => listen({ name: path }), AddressInUseError, "already listening");
      } finally {
        for (const conn of queued) conn.close();
      }
      assert(listener.endpoint.path === path);
    }),
});
