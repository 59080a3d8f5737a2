/**
 * A vscode-jsonrpc peer for tests/rpc_interop_test.ts and the benchmark, run by Node with the
 * package installed by bench/_install.ts into bench/.peers/. Plain JavaScript: Node runs it.
 *
 *   node vscode_jsonrpc.mjs client PATH   connects to a duct server on the Unix socket PATH,
 *                                         runs the interop scenario, prints one JSON line
 *   node vscode_jsonrpc.mjs server PATH   listens on PATH; prints {"ready":true}; serves `echo`,
 *                                         `slow` (answers only when cancelled) and `notes`
 *   node vscode_jsonrpc.mjs bench PATH N INFLIGHT [REPS]  after one warm-up, REPS times (default
 *                                         1) calls `echo` N times, INFLIGHT at once, with 64-byte
 *                                         params; prints {"samples":[calls/s each],"latencies":[…]}
 *                                         (each call's ms, INFLIGHT 1 only)
 *
 * @module
 */

import { createRequire } from "node:module";
import net from "node:net";
import process from "node:process";
import { timeCalls } from "../../bench/peers/_rpc_calls.mjs";

const require = createRequire(new URL("../../bench/.peers/package.json", import.meta.url));
const rpc = require("vscode-jsonrpc/node");

const [mode, path, ...rest] = process.argv.slice(2);

function over(socket) {
  return rpc.createMessageConnection(
    new rpc.SocketMessageReader(socket),
    new rpc.SocketMessageWriter(socket),
  );
}

function connectTo(socketPath) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath, () => resolve(socket));
    socket.once("error", reject);
  });
}

async function outcome(promise) {
  try {
    return { result: await promise };
  } catch (error) {
    return { code: error.code, message: error.message };
  }
}

if (mode === "client") {
  const conn = over(await connectTo(path));
  conn.listen();
  // 1,000 requests at once; the duct server answers them in reverse order.
  const calls = Array.from({ length: 1000 }, (_, i) => conn.sendRequest("gate", { n: i }));
  const results = await Promise.all(calls);
  const source = new rpc.CancellationTokenSource();
  const slow = conn.sendRequest("never", {}, source.token);
  setTimeout(() => source.cancel(), 0);
  const report = {
    ordered: results.every((result, i) => result === i) || JSON.stringify(results.slice(0, 3)),
    cancelled: await outcome(slow),
    unknown: await outcome(conn.sendRequest("no/such/method", {})),
    thrown: await outcome(conn.sendRequest("throws", {})),
    notified: await (async () => {
      await conn.sendNotification("note", { text: "from node" });
      return conn.sendRequest("notes");
    })(),
  };
  console.log(JSON.stringify(report));
  conn.dispose();
  process.exit(0);
} else if (mode === "server") {
  const server = net.createServer((socket) => {
    const conn = over(socket);
    const notes = [];
    conn.onRequest("echo", (params) => params);
    conn.onRequest("slow", (_params, token) =>
      new Promise((resolve) => {
        token.onCancellationRequested(() => {
          conn.sendNotification("slowCancelled", { cancelled: true });
          resolve("cancelled");
        });
      }));
    conn.onNotification("note", (params) => notes.push(params));
    conn.onRequest("notes", () => notes);
    socket.on("close", () => conn.dispose());
    conn.listen();
  });
  server.listen(path, () => console.log(JSON.stringify({ ready: true })));
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
} else if (mode === "bench") {
  const [count, inFlight, reps = 1] = rest.map(Number);
  const conn = over(await connectTo(path));
  conn.listen();
  const params = { x: "x".repeat(56) }; // 64 bytes of JSON: {"x":"xxx…"}
  const timed = await timeCalls(() => conn.sendRequest("echo", params), count, inFlight, reps);
  conn.dispose();
  // A pipe's stdout is written asynchronously: exit once all of it is out.
  process.stdout.write(JSON.stringify(timed) + "\n", () => process.exit(0));
} else {
  console.error(`usage: vscode_jsonrpc.mjs client|server|bench PATH …`);
  process.exit(64);
}
