/**
 * Hardening, load with an exact ledger: 200 clients (50 on Windows, where it runs under Wine) ×
 * 1,000 messages each against `server.ts --reply ack`. Every message is printed by the server
 * exactly once, in each client's order, and acknowledged exactly once; nothing else arrives. The
 * clients run in this process through the library (200 Deno processes would measure process
 * start-up on a small machine, not duct). The endpoint is a plain name, valid on every OS.
 */

import { assert, assertEquals } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { Server } from "./_server.ts";
import { connect } from "../lib/mod.ts";

import { ACK } from "../server.ts";
/** Issue 5: 200 clients on Unix, 50 on Windows (named pipes under Wine). */
const CLIENTS = Deno.build.os === "windows" ? 50 : 200;
const MESSAGES = 1000;
const decoder = new TextDecoder();

/** The ledger of what one client sent and what came back. */
interface Account {
  sent: string[];
  acks: number;
}

async function runClient(path: string, index: number): Promise<Account> {
  const conn = await connect({ name: path, timeout: 60_000 });
  const account: Account = { sent: [], acks: 0 };
  try {
    const acks = (async () => {
      for (let reply; (reply = await conn.receive()) !== null;) {
        assertEquals(decoder.decode(reply), ACK, `client ${index}`);
        account.acks++;
      }
    })();
    for (let j = 0; j < MESSAGES; j++) {
      const message = `c${index} m${j}`;
      // Not awaited one by one: the library pipelines them, as a busy client would.
      conn.send(message).catch(() => {});
      account.sent.push(message);
    }
    // Half-close: the server answers what it has, then hangs up, which ends `acks`. An ack too
    // many would be counted before that end.
    await conn.closeWrite();
    await acks;
  } finally {
    await conn.close();
  }
  return account;
}

Deno.test({
  name: `load: ${CLIENTS} clients × ${MESSAGES} messages with --reply ack — every message ` +
    "printed once, in order, and acked once",
  async fn() {
    await using server = await Server.start([
      "--name",
      uniqueName("load"),
      "--reply",
      "ack",
    ]);
    const accounts = await Promise.all(
      Array.from({ length: CLIENTS }, (_, index) => runClient(server.path, index)),
    );
    await server.until(
      () => server.count("disconnected") === CLIENTS,
      `all ${CLIENTS} clients to be gone`,
    );

    // The clients' side: every message acked exactly once.
    for (const [index, account] of accounts.entries()) {
      assertEquals(account.sent.length, MESSAGES, `client ${index} sent`);
      assertEquals(account.acks, MESSAGES, `client ${index} acks`);
    }

    // The server's side: its printed messages, per connection, against the ledger.
    const printed = new Map<number, string[]>();
    for (const event of server.events) {
      if (event.event === "error") throw new Error(`server error: ${event.message}`);
      if (event.event !== "message") continue;
      assert(event.text !== undefined);
      let list = printed.get(event.client!);
      if (list === undefined) printed.set(event.client!, list = []);
      list.push(event.text);
    }
    assertEquals(server.count("connected"), CLIENTS);
    assertEquals(printed.size, CLIENTS);
    const seen = new Set<number>();
    for (const [id, texts] of printed) {
      const index = Number(/^c(\d+) /.exec(texts[0])?.[1]);
      assert(!seen.has(index), `client ${index} appears on two connections`);
      seen.add(index);
      // Exactly the sent sequence: nothing lost, duplicated, reordered or from someone else.
      assertEquals(texts, accounts[index].sent, `server client ${id} (sender ${index})`);
    }
    const total = [...printed.values()].reduce((sum, texts) => sum + texts.length, 0);
    assertEquals(total, CLIENTS * MESSAGES);
  },
});
