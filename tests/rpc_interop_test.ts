/**
 * `RpcPeer` against peers nobody here wrote, over a Unix socket in `content-length` framing:
 * vscode-jsonrpc (run by Node) as the client of a duct server and as the server of a duct
 * client, and a real language server (`vscode-json-language-server`, started with `--pipe=PATH`:
 * it connects to the socket duct listens on). The npm packages are installed, pinned, by
 * bench/_install.ts into the ignored bench/.peers/; the tests are skipped, saying so, only when
 * npm cannot be reached.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { installPeers, PEERS_FOLDER } from "../bench/_install.ts";
import { connect, type DuctError, listen, RpcPeer, serve } from "../lib/mod.ts";
import { METHOD_NOT_FOUND, REQUEST_CANCELLED, RpcError } from "../lib/rpc_errors.ts";
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { tempDir, uniqueName } from "./_endpoints.ts";
import { IS_WINDOWS } from "./_process.ts";

const DRIVER = fileURLToPath(new URL("./peers/vscode_jsonrpc.mjs", import.meta.url));
const framing = "content-length";

/** Why the tests cannot run here (`undefined`: they run); a failed install that is not npm's
 * absence fails the file instead. */
async function unavailable(): Promise<string | undefined> {
  if (IS_WINDOWS) return "Node and npm are not part of the Windows (Wine) test run";
  const problem = await installPeers("npm");
  if (problem === undefined) return undefined;
  const ping = await new Deno.Command("npm", { args: ["ping"], stdout: "null", stderr: "null" })
    .output().catch(() => undefined);
  if (ping?.success) throw new Error(`installing the interop peers failed: ${problem}`);
  return `npm is unreachable (${problem})`;
}

const skip = await unavailable();
if (skip !== undefined) console.warn(`rpc_interop_test: skipped: ${skip}`);

function node(args: string[]): Deno.ChildProcess {
  return new Deno.Command("node", { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  return text.split("\n")[0];
}

Deno.test({
  name: "interop: a vscode-jsonrpc client calls a duct server (1,000 at once, cancel, errors)",
  ignore: skip !== undefined,
  async fn() {
    const listener = await listen({ name: uniqueName("rpc-vscode"), framing });
    const gates: PromiseWithResolvers<void>[] = [];
    const notes: unknown[] = [];
    const errors: DuctError[] = [];
    const served = serve(listener, {
      gate: async (params) => {
        const gate = Promise.withResolvers<void>();
        gates.push(gate);
        // Answered out of order: the last to arrive first.
        if (gates.length === 1000) gates.toReversed().forEach((each) => each.resolve());
        await gate.promise;
        return (params as { n: number }).n;
      },
      never: (_params, { signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      throws: () => {
        throw new Error("deliberate failure");
      },
      notes: () => notes,
    }, {
      maxConcurrent: 1000,
      notifications: { note: (params) => void notes.push(params) },
      onError: (error) => errors.push(error),
    });
    const child = node([DRIVER, "client", listener.endpoint.path!]);
    child.stdin.close();
    const output = await child.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, stderr);
    const report = JSON.parse(new TextDecoder().decode(output.stdout));
    assertEquals(report.ordered, true);
    assertEquals(report.cancelled.code, REQUEST_CANCELLED, JSON.stringify(report.cancelled));
    assertEquals(report.unknown.code, METHOD_NOT_FOUND);
    assertEquals(report.thrown, { code: -32603, message: "deliberate failure" });
    assertEquals(report.notified, [{ text: "from node" }]);
    listener.close();
    await served;
    assertEquals(errors, []);
  },
});

Deno.test({
  name: "interop: a duct client calls a vscode-jsonrpc server (request, notify, cancel)",
  ignore: skip !== undefined,
  async fn() {
    const path = `${await tempDir("rpc-vscode")}/server.sock`;
    const child = node([DRIVER, "server", path]);
    try {
      assertEquals(JSON.parse(await firstLine(child.stdout)), { ready: true });
      const errors: DuctError[] = [];
      const peer = new RpcPeer(await connect({ name: path, framing }), {
        onError: (error) => errors.push(error),
      });
      const slowCancelled = Promise.withResolvers<unknown>();
      peer.onNotification("slowCancelled", (params) => slowCancelled.resolve(params));
      assertEquals(await peer.request("echo", { a: [1, "two", null] }), { a: [1, "two", null] });
      await peer.notify("note", { text: "from duct" });
      assertEquals(await peer.request("notes"), [{ text: "from duct" }]);
      const controller = new AbortController();
      const slow = peer.request("slow", {}, { signal: controller.signal });
      await peer.request("echo", {}); // "slow" is under way on the server
      controller.abort();
      const error = await assertRejects(() => slow, RpcError);
      assertEquals(error.code, REQUEST_CANCELLED);
      // The server saw the $/cancelRequest: its handler's token was cancelled.
      assertEquals(await slowCancelled.promise, { cancelled: true });
      const missing = await assertRejects(() => peer.request("nope"), RpcError);
      assertEquals(missing.code, METHOD_NOT_FOUND);
      await peer.close();
      assertEquals(errors, [], "the late answer to the cancelled request is not an error");
    } finally {
      child.stdin.close();
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel();
    }
  },
});

Deno.test({
  name: "interop: a real language server (--pipe) initializes, diagnoses a document, exits",
  ignore: skip !== undefined,
  async fn() {
    const listener = await listen({ name: uniqueName("rpc-lsp"), framing });
    const bin = new URL("node_modules/.bin/vscode-json-language-server", PEERS_FOLDER);
    const child = new Deno.Command(fileURLToPath(bin), {
      args: [`--pipe=${listener.endpoint.path}`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const conn = await listener.accept();
      assert(conn !== null);
      const serverRequests: string[] = [];
      const peer = new RpcPeer(conn, {
        // The server's own requests (workspace/configuration, client/registerCapability…).
        fallback: (method, params) => {
          serverRequests.push(method);
          const items = (params as { items?: unknown[] } | undefined)?.items;
          return method === "workspace/configuration" ? items?.map(() => null) : null;
        },
      });
      const diagnostics = Promise.withResolvers<{ uri: string; diagnostics: unknown[] }>();
      peer.onNotification("textDocument/publishDiagnostics", (params) => {
        const published = params as { uri: string; diagnostics: unknown[] };
        if (published.diagnostics.length > 0) diagnostics.resolve(published);
      });
      const init = await peer.request("initialize", {
        processId: Deno.pid,
        rootUri: null,
        capabilities: { workspace: { configuration: true } },
      }) as { capabilities: Record<string, unknown> };
      assert("documentSymbolProvider" in init.capabilities, JSON.stringify(init));
      await peer.notify("initialized", {});
      const uri = "file:///tmp/duct-interop/broken.json";
      await peer.notify("textDocument/didOpen", {
        textDocument: { uri, languageId: "json", version: 1, text: '{"a": 1,, }' },
      });
      const published = await diagnostics.promise;
      assertEquals(published.uri, uri);
      assert(published.diagnostics.length > 0);
      assertEquals(await peer.request("shutdown"), null);
      await peer.notify("exit");
      const status = await child.status;
      assertEquals(status.code, 0, "exit after shutdown ends the server cleanly");
      await peer.closed;
    } finally {
      listener.close();
      try {
        child.kill();
      } catch {
        // Already exited.
      }
      await child.stdout.cancel();
      await child.stderr.cancel();
    }
  },
});
