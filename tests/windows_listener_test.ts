/**
 * The Windows listener (`lib/windows/transport.ts`): several instances wait at once, so a burst of clients
 * that never call `WaitNamedPipe` all get in (raw `CreateFileW` calls in one tick, and classic C
 * clients started together); an instance limit that stays reached by instances of another process
 * fails `accept()` with a clear error instead of hanging it. Skipped off Windows; run under Wine
 * with `deno task test:wine`.
 *
 * @module
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { peer } from "./_peers.ts";
import { connect, listen } from "../lib/api.ts";
import { resolveEndpoint } from "../lib/endpoint.ts";
import { Win32Error } from "../lib/errors.ts";
import {
  FILE_FLAG_OVERLAPPED,
  GENERIC_READ,
  GENERIC_WRITE,
  isInvalidHandle,
  kernel32Symbols,
  OPEN_EXISTING,
  PIPE_ACCESS_DUPLEX,
  PIPE_READMODE_MESSAGE,
  PIPE_REJECT_REMOTE_CLIENTS,
  PIPE_TYPE_MESSAGE,
  wideString,
} from "../lib/windows/ffi.ts";

const ignore = Deno.build.os !== "windows";

function transport() {
  return import("../lib/windows/transport.ts");
}

Deno.test({
  name: "windows listener: PENDING_INSTANCES clients opening in one tick all find an instance",
  ignore,
  async fn() {
    const { windowsTransport, PENDING_INSTANCES } = await transport();
    const name = uniqueName("burst");
    const { path } = resolveEndpoint(name);
    const listener = await windowsTransport.listen({ name, path });
    const kernel32 = kernel32Symbols();
    const wide = wideString(path);
    // No await in between: the listener cannot create an instance between these calls.
    const handles = Array.from({ length: PENDING_INSTANCES }, () =>
      kernel32.CreateFileW(
        wide,
        (GENERIC_READ | GENERIC_WRITE) >>> 0,
        0,
        null,
        OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED,
        null,
      ));
    const opened = handles.filter((handle) => !isInvalidHandle(handle));
    for (const handle of opened) kernel32.CloseHandle(handle);
    assertEquals(opened.length, PENDING_INSTANCES, "some clients got ERROR_PIPE_BUSY");
    for (let i = 0; i < PENDING_INSTANCES; i++) (await listener.accept()).close();
    listener.close();
  },
});

Deno.test({
  name: "windows listener: a burst of classic C clients that never wait are all served",
  ignore,
  async fn() {
    const { PENDING_INSTANCES } = await transport();
    const exe = await peer("classic_client");
    const name = uniqueName("cburst");
    await using listener = await listen({ name, framing: "nul" });
    const serving = (async () => {
      for (let i = 0; i < PENDING_INSTANCES; i++) {
        const conn = (await listener.accept())!;
        (async () => {
          for (let m; (m = await conn.receive()) !== null;) await conn.send(m);
          await conn.close();
        })();
      }
    })();
    const outputs = await Promise.all(
      Array.from({ length: PENDING_INSTANCES }, (_, i) =>
        new Deno.Command(exe, {
          args: ["--no-wait", resolveEndpoint(name).path, `client ${i}`],
          stdout: "piped",
          stderr: "piped",
        }).output()),
    );
    const decoder = new TextDecoder();
    outputs.forEach((output, i) => {
      assertEquals(output.code, 0, decoder.decode(output.stderr));
      assertEquals(decoder.decode(output.stdout).replaceAll("\r", ""), `server: client ${i}\n`);
    });
    await serving;
  },
});

Deno.test({
  name: "windows listener: every instance held by another process fails accept() clearly",
  ignore,
  async fn() {
    const name = uniqueName("held");
    const { path } = resolveEndpoint(name);
    // One client at most: instance limit 2, the next instance made before the last one closes.
    const listener = await listen({ name, maxClients: 1 });
    const accepted = listener.accept();
    const client = await connect({ name, timeout: 2000 });
    const conn = (await accepted)!;
    // Another process of this user creates an instance of the same pipe (the owner may): with
    // the connection's instance, the limit is reached.
    const kernel32 = kernel32Symbols();
    const foreign = () =>
      kernel32.CreateNamedPipeW(
        wideString(path),
        PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
        PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_REJECT_REMOTE_CLIENTS,
        2,
        4096,
        4096,
        0,
        null,
      );
    const held = [foreign()];
    assert(!isInvalidHandle(held[0]), "cannot create the foreign instance");
    try {
      await client.close();
      await conn.close();
      // The connection's instance is gone; a second foreign one takes its place at once.
      held.push(foreign());
      assert(!isInvalidHandle(held[1]), "cannot create the second foreign instance");
      const error = await assertRejects(() => listener.accept(), Win32Error);
      assertStringIncludes(error.message, "every instance has been busy for 5 s");
      assertStringIncludes(error.message, "ERROR_PIPE_BUSY");
    } finally {
      for (const handle of held) if (!isInvalidHandle(handle)) kernel32.CloseHandle(handle);
      listener.close();
    }
  },
});
