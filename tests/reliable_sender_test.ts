/**
 * `ReliableSender`: replay of unconfirmed messages on a new connection, the duplicates that
 * at-least-once delivery makes, the window, and giving up with the exact unconfirmed messages.
 * In-process servers from `listen`, on every platform.
 */

import {
  connect,
  type Connection,
  listen,
  type Listener,
  ReliableSender,
  type ReliableSenderOptions,
  UnconfirmedError,
} from "../lib/mod.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";

const decoder = new TextDecoder();
const text = (bytes: Uint8Array) => decoder.decode(bytes);

/** Resolves once `check()` holds, re-checked after each reply the sender reports. */
class Replies {
  readonly pairs: [string, string][] = [];
  #wake = Promise.withResolvers<void>();
  readonly onReply = (reply: Uint8Array, message: Uint8Array) => {
    this.pairs.push([text(reply), text(message)]);
    const wake = this.#wake;
    this.#wake = Promise.withResolvers();
    wake.resolve();
  };
  async count(n: number): Promise<void> {
    while (this.pairs.length < n) await this.#wake.promise;
  }
}

async function receiveN(conn: Connection, n: number): Promise<string[]> {
  const got: string[] = [];
  for (let i = 0; i < n; i++) {
    const message = await conn.receive();
    assert(message !== null, `the client closed after ${i} of ${n} messages`);
    got.push(text(message));
  }
  return got;
}

async function echoAll(conn: Connection): Promise<string[]> {
  const got: string[] = [];
  for (let message; (message = await conn.receive()) !== null;) {
    got.push(text(message));
    await conn.send(message);
  }
  await conn.close();
  return got;
}

async function open(name: string, options: Partial<ReliableSenderOptions> = {}) {
  const settings = { name, timeout: 20_000, ...options };
  return new ReliableSender(await connect(settings), settings);
}

Deno.test("ReliableSender resends the unconfirmed messages, in order, to the next server: the duplicates show", async () => {
  const name = uniqueName("rs-replay");
  const first = await listen({ name });
  const replies = new Replies();
  const breaks: number[] = [];
  const resent: number[] = [];
  const broken = Promise.withResolvers<void>();
  const reconnected = Promise.withResolvers<void>();
  const sender = await open(name, {
    onReply: replies.onReply,
    onBreak: ({ unconfirmed }) => {
      breaks.push(unconfirmed);
      broken.resolve();
    },
    onReconnect: (info) => {
      resent.push(info.resent);
      reconnected.resolve();
    },
  });
  const conn1 = (await first.accept())!;
  for (const m of ["m1", "m2", "m3", "m4", "m5"]) await sender.send(m);
  const seenByFirst = await receiveN(conn1, 5);
  for (let i = 0; i < 3; i++) conn1.send("ack");
  await replies.count(3);
  // It took in m4 and m5 but crashed before answering them.
  conn1.abort();
  first.close();
  await broken.promise;
  let second: Listener | undefined;
  try {
    second = await listen({ name });
    const serving = second.accept().then((conn) => echoAll(conn!));
    await reconnected.promise;
    for (const m of ["m6", "m7", "m8"]) await sender.send(m);
    await sender.end();
    const seenBySecond = await serving;
    assertEquals(seenByFirst, ["m1", "m2", "m3", "m4", "m5"]);
    // At least once: m4 and m5 reached both servers.
    assertEquals(seenBySecond, ["m4", "m5", "m6", "m7", "m8"]);
    assertEquals(breaks, [2]);
    assertEquals(resent, [2]);
    assertEquals(replies.pairs.map(([, message]) => message), [
      "m1",
      "m2",
      "m3",
      "m4",
      "m5",
      "m6",
      "m7",
      "m8",
    ]);
    assertEquals(replies.pairs.slice(3).map(([reply]) => reply), ["m4", "m5", "m6", "m7", "m8"]);
    assertEquals([sender.sent, sender.confirmed, sender.unconfirmed], [8, 8, 0]);
  } finally {
    second?.close();
  }
});

Deno.test("ReliableSender gives up after its timeout with exactly the unconfirmed messages", async () => {
  const name = uniqueName("rs-gone");
  const listener = await listen({ name });
  const replies = new Replies();
  const sender = await open(name, { timeout: 300, onReply: replies.onReply });
  const conn = (await listener.accept())!;
  for (const m of ["a", "b", "c", "d"]) await sender.send(m);
  await receiveN(conn, 4);
  conn.send("ok");
  conn.send("ok");
  await replies.count(2);
  conn.abort();
  listener.close();
  const error = await assertRejects(() => sender.end(), UnconfirmedError);
  assertEquals(error.messages.map(text), ["c", "d"]);
  assertStringIncludes(error.message, `no server came back on ${name} within 0.3 s`);
  assertStringIncludes(error.message, "2 messages were never confirmed");
  await assertRejects(() => sender.send("e"), UnconfirmedError);
});

Deno.test("ReliableSender: send waits while the window is full, and goes on as replies come", async () => {
  const name = uniqueName("rs-window");
  await using listener = await listen({ name });
  const sender = await open(name, { window: 3 });
  const conn = (await listener.accept())!;
  for (const m of ["1", "2", "3"]) await sender.send(m);
  assertEquals(sender.hasRoom, false);
  let fourthTaken = false;
  const fourth = sender.send("4").then(() => fourthTaken = true);
  // The server has all three, and has answered none: the fourth cannot have been taken.
  assertEquals(await receiveN(conn, 3), ["1", "2", "3"]);
  assertEquals([fourthTaken, sender.unconfirmed], [false, 3]);
  await conn.send("ok");
  await fourth;
  assertEquals(await receiveN(conn, 1), ["4"]);
  for (let i = 0; i < 3; i++) conn.send("ok");
  await sender.end();
  await conn.close();
});

Deno.test("ReliableSender: the window also bounds the unconfirmed payload bytes", async () => {
  const name = uniqueName("rs-bytes");
  await using listener = await listen({ name });
  const sender = await open(name, { windowBytes: 10 });
  const conn = (await listener.accept())!;
  await sender.send("sixsix");
  assertEquals(sender.hasRoom, true);
  await sender.send("sixsix");
  assertEquals(sender.hasRoom, false);
  sender.abort();
  await conn.close();
  assert(sender.failure !== undefined);
});

Deno.test("ReliableSender stops replaying to a server that keeps closing without answering", async () => {
  const name = uniqueName("rs-fruitless");
  const listener = await listen({ name });
  const sender = await open(name);
  // A server that takes each connection's messages and closes it without a word.
  const serving = (async () => {
    for await (const conn of listener) {
      await receiveN(conn, 1).catch(() => {});
      await conn.close();
    }
  })();
  await sender.send("lost?");
  const error = await assertRejects(() => sender.end(), UnconfirmedError);
  assertStringIncludes(error.message, "3 times in a row without confirming any message");
  assertEquals(error.messages.map(text), ["lost?"]);
  listener.close();
  await serving;
});

Deno.test("ReliableSender refuses a window that is not a positive whole number", async () => {
  const name = uniqueName("rs-opts");
  await using listener = await listen({ name });
  const conn = await connect({ name });
  try {
    for (const window of [0, -1, 1.5]) {
      let error: unknown;
      try {
        new ReliableSender(conn, { name, window });
      } catch (caught) {
        error = caught;
      }
      assert(error instanceof RangeError, `window ${window} was accepted`);
    }
  } finally {
    conn.abort();
    (await listener.accept())?.abort();
  }
});

Deno.test("ReliableSender: a reconnection counts the messages queued while reconnecting apart from those sent again", async () => {
  const name = uniqueName("rs-queued");
  const first = await listen({ name });
  const infos: { resent: number; queued: number }[] = [];
  const broken = Promise.withResolvers<number>();
  const reconnected = Promise.withResolvers<void>();
  const sender = await open(name, {
    onBreak: ({ unconfirmed }) => broken.resolve(unconfirmed),
    onReconnect: (info) => {
      infos.push(info);
      reconnected.resolve();
    },
  });
  const conn1 = (await first.accept())!;
  for (const m of ["a", "b"]) await sender.send(m);
  await receiveN(conn1, 2);
  conn1.abort();
  first.close();
  assertEquals(await broken.promise, 2);
  // Taken while no server is there: never sent before the reconnection.
  for (const m of ["c", "d", "e"]) await sender.send(m);
  await using second = await listen({ name });
  const serving = second.accept().then((conn) => echoAll(conn!));
  await reconnected.promise;
  await sender.end();
  assertEquals(await serving, ["a", "b", "c", "d", "e"]);
  assertEquals(infos, [{ resent: 2, queued: 3 }]);
});

Deno.test("ReliableSender: replyTimeout gives up on a server that reads and never answers", async () => {
  const name = uniqueName("rs-silent");
  await using listener = await listen({ name });
  const sender = await open(name, { replyTimeout: 300 });
  const conn = (await listener.accept())!;
  for (const m of ["x", "y"]) await sender.send(m);
  await receiveN(conn, 2);
  const error = await assertRejects(() => sender.end(), UnconfirmedError);
  assertEquals(error.messages.map(text), ["x", "y"]);
  assertStringIncludes(error.message, "the server sent no reply for 0.3 s (replyTimeout)");
  conn.abort();
});
