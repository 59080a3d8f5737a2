/**
 * Benchmark driver for Node's `net` module on a Unix socket or a Windows named pipe, with no
 * framing. The same file is run by `node` (Node's own `net`) and by `deno run` (Deno's
 * `node:net`), so the two differ only in the runtime.
 *
 * @module
 */

import net from "node:net";
import { once } from "node:events";
import { main } from "./_driver.mjs";

/**
 * A client socket and the reader that collects what it receives.
 *
 * @typedef {object} Client
 * @property {net.Socket} socket
 * @property {number} got Bytes received since the last `expect`.
 * @property {string} text Text received (`stream` replies only).
 * @property {number} want Bytes to wait for.
 * @property {(() => void) | undefined} wake Settles the pending `expect`.
 */

await main({
  async serve(mode, path) {
    const server = net.createServer({ allowHalfOpen: true }, mode === "echo" ? echo : sink);
    server.listen(path);
    await once(server, "listening");
    let connections = 0;
    server.on("connection", (/** @type {net.Socket} */ socket) => {
      connections++;
      socket.on("close", () => connections--);
    });
    return { connections: () => connections, close: () => server.close() };
  },
  async open(path) {
    const socket = net.connect(path);
    await once(socket, "connect");
    /** @type {Client} */
    const client = { socket, got: 0, text: "", want: 0, wake: undefined };
    socket.on("data", (/** @type {Buffer} */ chunk) => {
      client.got += chunk.length;
      if (client.want === Infinity) client.text += chunk.toString();
      if (client.got >= client.want) client.wake?.();
    });
    socket.on("end", () => client.wake?.());
    socket.on("error", () => {});
    return client;
  },
  async roundTrip(conn, message) {
    const client = /** @type {Client} */ (conn);
    const arrived = expect(client, message.length);
    client.socket.write(message);
    await arrived;
    if (client.got < message.length) throw new Error("the server closed the connection");
  },
  async stream(conn, message, count, params) {
    const client = /** @type {Client} */ (conn);
    const replied = expect(client, Infinity);
    if (params.write === "once") {
      client.socket.write(Buffer.alloc(message.length * count, message[0]));
    } else {
      for (let i = 0; i < count; i++) {
        if (!client.socket.write(message)) await once(client.socket, "drain");
      }
    }
    client.socket.end();
    await replied;
    const expected = String(message.length * count);
    if (client.text !== expected) {
      throw new Error(`the server counted ${client.text} of ${expected} bytes`);
    }
  },
  close(conn) {
    /** @type {Client} */ (conn).socket.destroy();
  },
});

/**
 * Resolves once `want` more bytes have arrived (`Infinity`: at end of stream).
 *
 * @param {Client} client
 * @param {number} want
 * @returns {Promise<void>}
 */
function expect(client, want) {
  client.got = 0;
  client.text = "";
  client.want = want;
  return new Promise((resolve) => client.wake = resolve);
}

/** @param {net.Socket} socket */
function echo(socket) {
  socket.on("data", (/** @type {Buffer} */ chunk) => socket.write(chunk));
  socket.on("end", () => socket.end());
  socket.on("error", () => {});
}

/** @param {net.Socket} socket */
function sink(socket) {
  let bytes = 0;
  socket.on("data", (/** @type {Buffer} */ chunk) => bytes += chunk.length);
  socket.on("end", () => socket.end(String(bytes)));
  socket.on("error", () => {});
}
