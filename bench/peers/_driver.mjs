/**
 * What every peer driver shares: the command line, the result lines, the timing loops and the
 * server's `stats` command. Plain JavaScript on `node:` built-ins, so that Node runs it as well
 * as Deno: every peer is timed by the very same loops, and only its five primitives differ.
 *
 * A driver is started as `DRIVER server MODE PATH OPTIONS_JSON` or
 * `DRIVER client WORKLOAD PATH PARAMS_JSON`.
 * A server prints `{"ready":true}` once it listens, answers each `stats` line on stdin with
 * `{"rss":…,"threads":…,"connections":…}` and exits when stdin ends. A client prints one JSON line
 * with its samples and exits.
 *
 * @module
 */

import process from "node:process";
import { readFileSync } from "node:fs";

/**
 * Unframed peers start a stream with its total size in bytes, written as this many ASCII digits,
 * and their server answers with its count in the same form (named pipes have no half-close that
 * could mark the end of a stream instead).
 */
export const TOTAL_DIGITS = 16;

/**
 * The primitives a peer provides.
 *
 * @typedef {object} Peer
 * @property {(mode: "echo" | "sink", path: string, options: ServerOptions) => Promise<{
 *   connections: () => number, close: () => void}>} serve Listens on `path`: `echo` sends every
 *   message back; `sink` counts the messages of each connection until the client has sent them
 *   all, then answers with the count (frames, or bytes for unframed peers) and closes.
 * @property {(path: string) => Promise<unknown>} open Connects to `path`.
 * @property {(conn: any, message: Uint8Array) => Promise<void>} roundTrip Sends `message` and
 *   waits for it to come back.
 * @property {(conn: any, message: Uint8Array, count: number) => Promise<void>} echo Sends
 *   `message` `count` times without waiting for replies (one write each for unframed peers), and
 *   waits until all `count` replies are back.
 * @property {(conn: any, message: Uint8Array, count: number, params: Params) => Promise<void>}
 *   stream Sends `message` `count` times, tells the server it is done, waits for its count and
 *   checks it.
 * @property {(conn: any) => void} close Closes a client connection.
 */

/**
 * What the harness asks of a client.
 *
 * @typedef {object} Params
 * @property {number} size Payload bytes per message.
 * @property {number} count Messages per repetition (per connection for `stream`).
 * @property {number} [clients] Connections at once (`stream`, `idle`). Default 1.
 * @property {number} reps Measured repetitions, after one discarded warm-up.
 * @property {"each" | "once"} [write] Unframed peers: one write per message, or all in one.
 */

/**
 * What the harness asks of a server.
 *
 * @typedef {object} ServerOptions
 * @property {"new" | "into"} [receive] duct only: `receive()` or `receiveInto()` one buffer.
 */

/**
 * Runs a driver as its command line asks.
 *
 * @param {Peer} peer The peer's primitives.
 * @returns {Promise<void>}
 * @example
 * ```js ignore
 * import { main } from "./_driver.mjs";
 * await main({ serve, open, roundTrip, stream, close });
 * ```
 */
export async function main(peer) {
  const [role, kind, path, json] = process.argv.slice(2);
  if (role === "server") {
    const options = /** @type {ServerOptions} */ (JSON.parse(json ?? "{}"));
    const server = await peer.serve(/** @type {"echo" | "sink"} */ (kind), path, options);
    emit({ ready: true });
    await stdinLines(async (line) => {
      if (line === "stats") emit({ ...await footprint(), connections: server.connections() });
    });
    server.close();
    process.exit(0);
  }
  if (role !== "client") throw new Error(`unknown role ${role}`);
  const params = /** @type {Params} */ (JSON.parse(json));
  if (kind === "rtt") emit({ samples: await roundTrips(peer, path, params) });
  else if (kind === "echo") emit({ samples: await echoes(peer, path, params) });
  else if (kind === "stream") emit({ samples: await streams(peer, path, params) });
  else if (kind === "idle") await idle(peer, path, params);
  else throw new Error(`unknown workload ${kind}`);
  process.exit(0);
}

/**
 * Median of some numbers.
 *
 * @param {number[]} values At least one number.
 * @returns {number}
 * @example
 * ```js
 * import { median } from "./_driver.mjs";
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The server's resident memory in bytes and, where the OS shows it, its thread count (Linux:
 * `/proc/self/status`; Windows: a Toolhelp snapshot, see `_windows_threads.ts`).
 *
 * @returns {Promise<{rss: number, threads: number | null}>}
 * @example
 * ```js
 * import { footprint } from "./_driver.mjs";
 * console.log((await footprint()).rss > 0);
 * ```
 */
export async function footprint() {
  const deno = /** @type {any} */ (globalThis).Deno;
  if (deno?.build.os === "windows") {
    const { windowsThreadCount } = await import("./_windows_threads.ts");
    return { rss: process.memoryUsage().rss, threads: windowsThreadCount() };
  }
  let threads = null;
  try {
    // Linux, and Wine (whose processes are Linux processes and see the same /proc).
    const status = readFileSync("/proc/self/status", "utf8");
    threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN) || null;
  } catch {
    // No /proc: leave it unknown.
  }
  return { rss: process.memoryUsage().rss, threads };
}

/** @param {unknown} object */
function emit(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}

/**
 * Calls `onLine` for each line of stdin; resolves when stdin ends.
 *
 * @param {(line: string) => unknown} onLine
 * @returns {Promise<void>}
 */
function stdinLines(onLine) {
  return new Promise((resolve) => {
    let rest = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (/** @type {string} */ text) => {
      const lines = (rest + text).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) onLine(line.trim());
    });
    process.stdin.on("end", () => resolve());
    process.stdin.on("error", () => resolve());
  });
}

/**
 * A payload of `size` printable bytes (valid in every framing and in JSON).
 *
 * @param {number} size
 * @returns {Uint8Array}
 */
function payload(size) {
  return new Uint8Array(size).fill(0x78);
}

/**
 * Workload 1: the median time of one round trip, in microseconds, for each repetition.
 *
 * @param {Peer} peer
 * @param {string} path
 * @param {Params} params
 * @returns {Promise<number[]>}
 */
async function roundTrips(peer, path, params) {
  const message = payload(params.size);
  const conn = await peer.open(path);
  const samples = [];
  for (let rep = -1; rep < params.reps; rep++) {
    const times = new Array(params.count);
    for (let i = 0; i < params.count; i++) {
      const start = performance.now();
      await peer.roundTrip(conn, message);
      times[i] = performance.now() - start;
    }
    if (rep >= 0) samples.push(median(times) * 1000);
  }
  peer.close(conn);
  return samples;
}

/**
 * Workload 2: round trips per second with `count` requests in flight, for each repetition.
 *
 * @param {Peer} peer
 * @param {string} path
 * @param {Params} params
 * @returns {Promise<number[]>}
 */
async function echoes(peer, path, params) {
  const message = payload(params.size);
  const conn = await peer.open(path);
  const samples = [];
  for (let rep = -1; rep < params.reps; rep++) {
    const start = performance.now();
    await peer.echo(conn, message, params.count);
    const seconds = (performance.now() - start) / 1000;
    if (rep >= 0) samples.push(params.count / seconds);
  }
  peer.close(conn);
  return samples;
}

/**
 * Workloads 3–5: messages per second over all connections, for each repetition. Connecting is
 * not timed; the clock stops when every server has confirmed every message.
 *
 * @param {Peer} peer
 * @param {string} path
 * @param {Params} params
 * @returns {Promise<number[]>}
 */
async function streams(peer, path, params) {
  const message = payload(params.size);
  const clients = params.clients ?? 1;
  const samples = [];
  for (let rep = -1; rep < params.reps; rep++) {
    const conns = await openMany(peer, path, clients);
    const start = performance.now();
    await Promise.all(conns.map((conn) => peer.stream(conn, message, params.count, params)));
    const seconds = (performance.now() - start) / 1000;
    for (const conn of conns) peer.close(conn);
    if (rep >= 0) samples.push((clients * params.count) / seconds);
  }
  return samples;
}

/**
 * Workload 6: holds `clients` idle connections until stdin ends.
 *
 * @param {Peer} peer
 * @param {string} path
 * @param {Params} params
 * @returns {Promise<void>}
 */
async function idle(peer, path, params) {
  const conns = await openMany(peer, path, params.clients ?? 1);
  emit({ connected: conns.length });
  await stdinLines(() => {});
  for (const conn of conns) peer.close(conn);
}

/**
 * Connections opened at once: a Windows pipe server keeps only a few instances waiting, and a
 * client finding none free fails after a while instead of queueing as on a Unix socket.
 */
const OPEN_AT_ONCE = process.platform === "win32" ? 1 : 50;

/**
 * Opens `count` connections, a few at a time so as not to overflow the listen backlog.
 *
 * @param {Peer} peer
 * @param {string} path
 * @param {number} count
 * @returns {Promise<unknown[]>}
 */
async function openMany(peer, path, count) {
  const conns = [];
  for (let i = 0; i < count; i += OPEN_AT_ONCE) {
    const batch = Math.min(OPEN_AT_ONCE, count - i);
    conns.push(...await Promise.all(Array.from({ length: batch }, () => peer.open(path))));
  }
  return conns;
}
