/**
 * Benchmark driver for `node-ipc` (the version pinned in `bench/npm/`, installed by the harness
 * into `bench/.peers/`) on its Unix-socket transport, with its default JSON messages: each
 * payload travels as the `data` string of a `message` event. Run by `node`.
 *
 * @module
 */

import process from "node:process";
import { createRequire } from "node:module";
import { main } from "./_driver.mjs";

const folder = process.env.DUCT_BENCH_PEERS;
if (!folder) throw new Error("DUCT_BENCH_PEERS must name the folder node-ipc is installed in");
const ipc = createRequire(`${folder}/package.json`)("node-ipc");
ipc.config.silent = true;
// Enough for the footprint workload's idle clients (the default refuses past 100).
ipc.config.maxConnections = 4096;
ipc.config.stopRetrying = true;

/**
 * One client connection.
 *
 * @typedef {object} Client
 * @property {string} id The `ipc.of` key.
 * @property {any} peer `ipc.of[id]`.
 * @property {((data: unknown) => void) | undefined} wake Settles the pending wait.
 */

let nextId = 0;
/** @type {WeakMap<Uint8Array, string>} */
const texts = new WeakMap();

await main({
  serve(mode, path) {
    /** @type {Map<unknown, number>} */
    const counts = new Map();
    return new Promise((resolve) => {
      ipc.serve(path, () => {
        if (mode === "echo") {
          ipc.server.on("message", (/** @type {string} */ data, /** @type {any} */ socket) => {
            ipc.server.emit(socket, "message", data);
          });
        } else {
          ipc.server.on("message", (/** @type {string} */ _data, /** @type {any} */ socket) => {
            counts.set(socket, (counts.get(socket) ?? 0) + 1);
          });
          ipc.server.on("done", (/** @type {unknown} */ _data, /** @type {any} */ socket) => {
            ipc.server.emit(socket, "count", counts.get(socket) ?? 0);
            counts.delete(socket);
          });
        }
        resolve({
          connections: () => ipc.server.sockets.length,
          close: () => ipc.server.stop(),
        });
      });
      ipc.server.start();
    });
  },
  open(path) {
    const id = `bench${nextId++}`;
    return new Promise((resolve, reject) => {
      ipc.connectTo(id, path, () => {
        const peer = ipc.of[id];
        /** @type {Client} */
        const client = { id, peer, wake: undefined };
        const wake = (/** @type {unknown} */ data) => client.wake?.(data);
        peer.on("message", wake);
        peer.on("count", wake);
        peer.on("connect", () => resolve(client));
        peer.on("error", reject);
      });
    });
  },
  async roundTrip(conn, message) {
    const client = /** @type {Client} */ (conn);
    const replied = expect(client);
    client.peer.emit("message", textOf(message));
    await replied;
  },
  async echo(conn, message, count) {
    const client = /** @type {Client} */ (conn);
    const text = textOf(message);
    let got = 0;
    const replied = new Promise((resolve) => client.wake = () => ++got === count && resolve(got));
    for (let i = 0; i < count; i++) client.peer.emit("message", text);
    await replied;
  },
  async stream(conn, message, count) {
    const client = /** @type {Client} */ (conn);
    const text = textOf(message);
    const counted = expect(client);
    for (let i = 0; i < count; i++) client.peer.emit("message", text);
    client.peer.emit("done", true);
    const got = await counted;
    if (got !== count) throw new Error(`the server counted ${got} of ${count} messages`);
  },
  close(conn) {
    ipc.disconnect(/** @type {Client} */ (conn).id);
  },
});

/**
 * Resolves with the data of the next `message` or `count` event of `client`.
 *
 * @param {Client} client
 * @returns {Promise<unknown>}
 */
function expect(client) {
  return new Promise((resolve) => client.wake = resolve);
}

/**
 * The payload as the string node-ipc carries (computed once per payload).
 *
 * @param {Uint8Array} message
 * @returns {string}
 */
function textOf(message) {
  let text = texts.get(message);
  if (text === undefined) texts.set(message, text = new TextDecoder().decode(message));
  return text;
}
