/**
 * The completion port (`lib/windows/completion_port.ts`) where it matters on real Windows, not only under Wine: the
 * status of each operation comes back from its `Nt…` call, never from a later `GetLastError`; and
 * a waiter that fails (its port closed under it) leaves the kernel's memory alone and fails every
 * operation with a clear error instead of hanging. Each case runs in a subprocess, as it patches
 * or breaks process-wide state. Skipped off Windows; run under Wine with `deno task test:wine`.
 *
 * @module
 */

import { assertEquals, assertStrictEquals } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { outputWithin, Proc } from "./_process.ts";
import { resolveEndpoint } from "../lib/endpoint.ts";
import { ERROR_BROKEN_PIPE } from "../lib/windows/ffi.ts";
import { PENDING_INSTANCES } from "../lib/windows/transport.ts";

const ignore = Deno.build.os !== "windows";
const WINDOWS_URL = new URL("../lib/windows/transport.ts", import.meta.url).href;
const IOCP_URL = new URL("../lib/windows/completion_port.ts", import.meta.url).href;

/** Runs `code` in a fresh process with a watchdog; returns its output. */
async function run(code: string, limit = 60_000) {
  await using proc = Proc.eval(code);
  return await outputWithin(proc, limit);
}

/** Opens a connected pair through the transport in the subprocess: `listener`, `client`, `server`. */
function pairCode(name: string): string {
  return `
    const { windowsTransport } = await import(${JSON.stringify(WINDOWS_URL)});
    const name = ${JSON.stringify(name)};
    const path = ${JSON.stringify(resolveEndpoint(name).path)};
    const listener = await windowsTransport.listen({ name, path });
    const accepted = listener.accept();
    const client = await windowsTransport.connect({ name, path, timeout: 2000 });
    const server = await accepted;
  `;
}

Deno.test({
  name: "windows iocp: a last error overwritten after every call changes no operation's outcome",
  ignore,
  async fn() {
    // Every GetLastError answers ERROR_BROKEN_PIPE, as if the runtime had overwritten the thread's
    // last error between the I/O call and its read. Pending reads, a pending accept, a read
    // ending in ERROR_MORE_DATA and writes must all be unaffected.
    const code = `
      const realDlopen = Deno.dlopen;
      Object.defineProperty(Deno, "dlopen", {
        value: (path, definitions) => {
          const library = realDlopen(path, definitions);
          if (!("GetLastError" in definitions)) return library;
          const symbols = { ...library.symbols, GetLastError: () => ${ERROR_BROKEN_PIPE} };
          return { symbols, close: () => library.close() };
        },
      });
      ${pairCode(uniqueName("lasterror"))}
      const decoder = new TextDecoder();
      const lines = [];
      const buffer = new Uint8Array(4);
      const waiting = server.read(buffer);
      await client.write(new TextEncoder().encode("hello"));
      lines.push(decoder.decode(buffer.subarray(0, await waiting)));
      lines.push(decoder.decode(buffer.subarray(0, await server.read(buffer))));
      client.close();
      lines.push(String(await server.read(buffer)));
      server.close();
      listener.close();
      console.log(lines.join(","));
    `;
    const output = await run(code);
    assertStrictEquals(output.code, 0, output.stderr);
    assertEquals(output.lines, ["hell,o,null"], output.stderr);
  },
});

Deno.test({
  name:
    "windows iocp: a failed waiter keeps the kernel's buffers and fails every operation clearly",
  ignore,
  async fn() {
    const code = `
      const { completionPort } = await import(${JSON.stringify(IOCP_URL)});
      ${pairCode(uniqueName("abandon"))}
      const kernel32 = Deno.dlopen("kernel32.dll", {
        CloseHandle: { parameters: ["pointer"], result: "i32" },
      }).symbols;
      const port = completionPort();
      const reading = client.read(new Uint8Array(16)).then(
        (n) => "read " + n,
        (error) => error.name + ": " + error.message,
      );
      // The waiter blocks on the port; closing the port's handle under it fails that wait.
      kernel32.CloseHandle(port.handle);
      console.log(await reading);
      console.log("abandoned " + port.abandoned + ", pending " + port.pending);
      const writing = await server.write(new Uint8Array(8)).then(
        (n) => "wrote " + n,
        (error) => error.name,
      );
      console.log(writing);
      Deno.exit(0);
    `;
    const output = await run(code);
    assertStrictEquals(output.code, 0, output.stderr);
    assertEquals(output.lines, [
      "Win32Error: cannot read: ERROR_ABANDONED_WAIT_0 (Win32 error 735): duct's I/O completion " +
      "port failed, so no pipe I/O can complete in this process any more; restart it",
      // The pending read and the listener's pending instances, their memory kept for good.
      `abandoned ${1 + PENDING_INSTANCES}, pending 0`,
      "Win32Error",
    ], output.stderr);
  },
});
