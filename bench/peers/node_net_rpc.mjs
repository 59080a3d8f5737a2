/**
 * The baseline of the RPC part on Windows: `node:net` carrying the same JSON-RPC messages as
 * duct's `RpcPeer` (`content-length` framing, ids matched by hand), over a named pipe or a Unix
 * socket. Run by `deno run` (Deno's `node:net`; under Wine there is no Node) or by `node`. The
 * modes and their output are those of `duct_rpc.ts` (`server PATH`, `bench PATH N INFLIGHT REPS`).
 *
 * @module
 */

import net from "node:net";
import { once } from "node:events";
import process from "node:process";
import { timeCalls } from "./_rpc_calls.mjs";

const PARAMS = { x: "x".repeat(56) };
const HEADER_END = Buffer.from("\r\n\r\n");

/**
 * Calls `onMessage` with each `content-length` frame's body, parsed as JSON.
 *
 * @param {net.Socket} socket
 * @param {(message: any) => void} onMessage
 */
function readMessages(socket, onMessage) {
  let pending = Buffer.alloc(0);
  socket.on("data", (/** @type {Buffer} */ chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const end = pending.indexOf(HEADER_END);
      if (end < 0) return;
      const match = /Content-Length: *(\d+)/i.exec(pending.toString("latin1", 0, end));
      if (match === null) throw new Error("a header without Content-Length");
      const size = Number(match[1]);
      const start = end + HEADER_END.length;
      if (pending.length < start + size) return;
      onMessage(JSON.parse(pending.toString("utf8", start, start + size)));
      pending = pending.subarray(start + size);
    }
  });
}

/**
 * Writes `message` as one `content-length` frame.
 *
 * @param {net.Socket} socket
 * @param {unknown} message
 */
function writeMessage(socket, message) {
  const body = Buffer.from(JSON.stringify(message));
  socket.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
}

const [mode, path, ...rest] = process.argv.slice(2);

if (mode === "server") {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    readMessages(socket, (request) => {
      writeMessage(socket, { jsonrpc: "2.0", id: request.id, result: request.params ?? null });
    });
  });
  server.listen(path);
  await once(server, "listening");
  console.log(JSON.stringify({ ready: true }));
  // Ends when the harness closes stdin.
  process.stdin.resume();
  await once(process.stdin, "end");
  server.close();
  process.exit(0);
} else if (mode === "bench") {
  const [count, inFlight, reps = 1] = rest.map(Number);
  const socket = net.connect(path);
  await once(socket, "connect");
  /** @type {Map<number, (result: unknown) => void>} */
  const waiting = new Map();
  readMessages(socket, (response) => {
    const resolve = waiting.get(response.id);
    waiting.delete(response.id);
    resolve?.(response.result);
  });
  let nextId = 0;
  const call = () =>
    new Promise((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve);
      writeMessage(socket, { jsonrpc: "2.0", id, method: "echo", params: PARAMS });
    });
  const line = JSON.stringify(await timeCalls(call, count, inFlight, reps)) + "\n";
  // Exits once its output is written: a pipe takes a long line in several writes.
  process.stdout.write(line, () => process.exit(0));
} else {
  console.error("usage: node_net_rpc.mjs server PATH | bench PATH N INFLIGHT [REPS]");
  process.exit(64);
}
