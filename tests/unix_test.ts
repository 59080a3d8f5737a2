/**
 * The Unix transport's `maxClients`: at the limit the listener stops accepting, so extra clients
 * wait in the kernel's accept queue and are served as places free (on Windows they wait for a
 * free pipe instance); once that queue is full, `connect` waits until its timeout. And paths: only
 * duct's own directory is ever created, and the OS's errors become DuctErrors naming the path.
 */

import {
  AddressInUseError,
  ConnectTimeoutError,
  DuctError,
  InvalidNameError,
} from "../lib/errors.ts";
import { connect, type Connection, listen } from "../lib/mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "./_assert.ts";
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
      // One after another: the kernel queues them, and accept takes them, in this order (connects
      // made at once reach the queue in any order, and the test would wait on the wrong client).
      const clients: Connection[] = [];
      for (let i = 0; i < 3; i++) clients.push(await connect({ name: path }));
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

Deno.test({
  name: "unix: an explicit path's directory must exist: it is named, never created",
  ignore,
  fn: () =>
    withDir(async (dir) => {
      const missing = `${dir}/no/such/dir`;
      const error = await assertRejects(
        () => listen({ name: `${missing}/x.sock` }),
        InvalidNameError,
      );
      assertStrictEquals(
        error.message,
        `cannot listen on ${missing}/x.sock: the directory ${missing} does not exist; create it ` +
          `first, or give a plain name to use duct's own directory`,
      );
      await assertRejects(() => Deno.lstat(`${dir}/no`), Deno.errors.NotFound);

      // A relative path is relative to the working directory, which is not created either.
      const relative = `duct-missing-${crypto.randomUUID()}`;
      try {
        await assertRejects(
          () => listen({ name: `${relative}/x.sock` }),
          InvalidNameError,
          relative,
        );
        await assertRejects(() => Deno.lstat(relative), Deno.errors.NotFound);
      } finally {
        await Deno.remove(relative, { recursive: true }).catch(() => {});
      }

      // One that exists is used as is.
      await using listener = await listen({ name: `${dir}/x.sock` });
      assertStrictEquals(listener.endpoint.path, `${dir}/x.sock`);
    }),
});

Deno.test({
  name: "unix: an unusable path fails with a DuctError naming it",
  ignore,
  fn: () =>
    withDir(async (dir) => {
      // A file where a directory should be: the OS says ENOTDIR.
      await Deno.writeTextFile(`${dir}/file`, "");
      const error = await assertRejects(() => listen({ name: `${dir}/file/x.sock` }), DuctError);
      assertStringIncludes(error.message, `${dir}/file`);
    }),
});

// A listener in a process of its own, so that it can die at once (SIGKILL) as a crashing server
// does; it accepts every connection and leaves it be.
const LISTENER = `
const listener = Deno.listen({ transport: "unix", path: Deno.args[0] });
console.log("listening");
const held = [];
for await (const conn of listener) held.push(conn);
`;

Deno.test({
  name: "unix: a server killed while clients connect: they wait for the next, never fail otherwise",
  ignore,
  async fn() {
    await withDir(async (dir) => {
      const path = `${dir}/dying.sock`;
      // Killed in the middle of a connection's setup, the server resets it (ECONNRESET from
      // connect itself): as much a "not there now" as a refused connection, so connect waits.
      // The race is narrow; rounds of four clients connecting in a loop meet it most times.
      for (let round = 0; round < 25; round++) {
        await Deno.remove(path).catch(() => {});
        const server = new Deno.Command(Deno.execPath(), {
          args: ["eval", LISTENER, path],
          stdout: "piped",
        }).spawn();
        const reader = server.stdout.getReader();
        await reader.read();
        // Each loop ends once its connect times out: after the kill, nobody listens there.
        const connecting = Array.from({ length: 4 }, async () => {
          for (;;) (await connect({ name: path, timeout: 50 })).abort();
        });
        await new Promise((resolve) => setTimeout(resolve, round % 5));
        server.kill("SIGKILL");
        await server.status;
        for (const outcome of await Promise.allSettled(connecting)) {
          assert(outcome.status === "rejected");
          if (!(outcome.reason instanceof ConnectTimeoutError)) throw outcome.reason;
        }
        reader.releaseLock();
        await server.stdout.cancel();
      }
    });
  },
});

Deno.test({
  name: "unix: a peer that hangs up with replies unread (a reset) still gets its last line through",
  ignore,
  async fn() {
    await withDir(async (dir) => {
      const path = `${dir}/reset.sock`;
      await using listener = await listen({ name: path, framing: "line" });
      const accepting = listener[Symbol.asyncIterator]().next();
      const peer = await Deno.connect({ transport: "unix", path });
      const conn: Connection = (await accepting).value;
      try {
        await peer.write(bytes("first\n"));
        assertEquals(text((await conn.receive())!), "first");
        // A reply the peer never reads: closing with it unread resets the connection.
        await conn.send("ack");
        await conn.flush();
        await peer.write(bytes("last, unterminated"));
        peer.close();
        assertEquals(text((await conn.receive())!), "last, unterminated");
        const error = await assertRejects(() => conn.receive(), DuctError);
        assertStringIncludes(error.message, "the peer closed the connection");
      } finally {
        conn.abort();
      }
    });
  },
});
