/**
 * A real `server.ts` under attack, with a well-behaved bystander client kept connected through it
 * to show that the abuse harms nobody else; raw peers that the server tells apart by id.
 *
 * @module
 */

import { assert, assertEquals } from "./_assert.ts";
import { endpointIn, removeQuietly, tempDir } from "./_endpoints.ts";
import { rawConnect } from "./_raw_peer.ts";
import { Server } from "./_server.ts";
import { type ByteConn, connect, type Connection, type Framing } from "../lib/mod.ts";

import { ACK } from "../server.ts";
const decoder = new TextDecoder();

/** A well-behaved client kept connected through the abuse, to show that it is unaffected. */
export class Bystander {
  #count = 0;
  private constructor(readonly conn: Connection, readonly echo: boolean) {}

  /** Joins a server started with `args`, in its framing. */
  static async join(server: Server, args: string[] = []): Promise<Bystander> {
    const option = (flag: string) => args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined;
    const framing = (option("--framing") ?? "length") as Framing;
    const conn = await connect({ name: server.path, framing, timeout: 5000 });
    return new Bystander(conn, option("--reply") === "echo");
  }

  /** One round trip: must come back as the ack (or the echo). */
  async ping(): Promise<void> {
    const message = `ping ${++this.#count}`;
    await this.conn.send(message);
    const reply = await this.conn.receive();
    assert(reply !== null, "the bystander lost its connection");
    assertEquals(decoder.decode(reply), this.echo ? message : ACK);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.conn.close();
  }
}

/** Connects a raw peer and returns it with the id the server gave it. */
export async function rawPeer(server: Server): Promise<{ conn: ByteConn; id: number }> {
  const before = server.count("connected");
  const conn = await rawConnect(server.path);
  await server.until(() => server.count("connected") > before, "the raw peer to be accepted");
  const connected = server.events.filter((event) => event.event === "connected");
  return { conn, id: connected[connected.length - 1].client! };
}

/** Waits for the server to drop client `id` and returns its error message. */
export async function droppedWith(server: Server, id: number): Promise<string> {
  await server.until(() => server.count("disconnected", id) > 0, `client ${id} to be dropped`);
  const error = server.of(id).find((event) => event.event === "error");
  assert(error?.message, `no error event for client ${id}`);
  return error.message;
}

export async function withServer(
  args: string[],
  body: (server: Server, bystander: Bystander) => Promise<void>,
  options: { json?: boolean } = {},
): Promise<void> {
  const dir = await tempDir("input");
  try {
    await using server = await Server.start(["--name", endpointIn(dir), ...args], options);
    await using bystander = await Bystander.join(server, args);
    await bystander.ping();
    // The ack can arrive before this process has read the server's `connected` line; rawPeer
    // tells a new client by that count, so it must already include the bystander.
    await server.until(() => server.count("connected") === 1, "the bystander to be seen");
    await body(server, bystander);
    await bystander.ping();
    assert(!server.exited, "the server exited");
  } finally {
    await removeQuietly(dir);
  }
}
