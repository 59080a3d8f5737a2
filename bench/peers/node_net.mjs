/**
 * Benchmark driver for Node's `net` module on a Unix socket or a Windows named pipe, with no
 * framing. The same file is run by `node` (Node's own `net`) and by `deno run` (Deno's
 * `node:net`), so the two differ only in the runtime.
 *
 * Streams start with their total size in bytes as `TOTAL_DIGITS` ASCII digits, and the server
 * answers with its count in the same form: named pipes have no half-close to mark the end.
 *
 * @module
 */

import net from "node:net";
import { once } from "node:events";
import { main, TOTAL_DIGITS } from "./_driver.mjs";

/**
 * A client socket and the reader that collects what it receives.
 *
 * @typedef {object} Client
 * @property {net.Socket} socket
 * @property {number} got Bytes received since the last `expect`.
 * @property {string | undefined} text Text received, when the pending `expect` keeps it.
 * @property {number} want Bytes to wait for.
 * @property {(() => void) | undefined} wake Settles the pending `expect`.
 */

await main({
  async serve(mode, path) {
    const server = net.createServer(mode === "echo" ? echo : sink);
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
    const client = { socket, got: 0, text: undefined, want: 0, wake: undefined };
    socket.on("data", (/** @type {Buffer} */ chunk) => {
      client.got += chunk.length;
      if (client.text !== undefined) client.text += chunk.toString();
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
  async echo(conn, message, count) {
    const client = /** @type {Client} */ (conn);
    const total = message.length * count;
    const arrived = expect(client, total);
    for (let i = 0; i < count; i++) {
      if (!client.socket.write(message)) await once(client.socket, "drain");
    }
    await arrived;
    if (client.got < total) throw new Error("the server closed the connection");
  },
  async stream(conn, message, count, params) {
    const client = /** @type {Client} */ (conn);
    const expected = String(message.length * count).padStart(TOTAL_DIGITS, "0");
    const replied = expect(client, TOTAL_DIGITS, true);
    client.socket.write(expected);
    if (params.write === "once") {
      client.socket.write(Buffer.alloc(message.length * count, message[0]));
    } else {
      for (let i = 0; i < count; i++) {
        if (!client.socket.write(message)) await once(client.socket, "drain");
      }
    }
    await replied;
    if (client.text !== expected) {
      throw new Error(`the server counted ${client.text} of ${expected} bytes`);
    }
  },
  close(conn) {
    /** @type {Client} */ (conn).socket.destroy();
  },
});

/**
 * Resolves once `want` more bytes have arrived, or at end of stream.
 *
 * @param {Client} client
 * @param {number} want
 * @param {boolean} [keepText] Keep what arrives as `client.text` (short replies only).
 * @returns {Promise<void>}
 */
function expect(client, want, keepText = false) {
  client.got = 0;
  client.text = keepText ? "" : undefined;
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
  let head = "";
  let total = Infinity;
  let bytes = 0;
  const answer = () => socket.end(String(bytes).padStart(TOTAL_DIGITS, "0"));
  socket.on("data", (/** @type {Buffer} */ chunk) => {
    if (total === Infinity) {
      const take = Math.min(TOTAL_DIGITS - head.length, chunk.length);
      head += chunk.subarray(0, take).toString();
      if (head.length < TOTAL_DIGITS) return;
      total = Number(head);
      chunk = chunk.subarray(take);
    }
    bytes += chunk.length;
    if (bytes >= total) answer();
  });
  socket.on("end", () => bytes < total && answer());
  socket.on("error", () => {});
}
