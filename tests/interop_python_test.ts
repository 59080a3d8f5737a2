/**
 * Interop with a program nobody here wrote: Python's `multiprocessing.connection` frames its
 * messages with the same 4-byte big-endian length header as duct's `length` framing, on Unix
 * sockets. Its `Client` talks to `server.ts`, and its `Listener` answers `client.ts`. Skipped with
 * one line where there is no python3 (and on Windows, where it uses its own pipe protocol).
 */

import { assert, assertEquals } from "./_assert.ts";
import { IS_WINDOWS } from "./_process.ts";
import { runClient } from "./_run.ts";
import { Server } from "./_server.ts";
import { ACK } from "../server.ts";

const PYTHON = IS_WINDOWS ? undefined : (() => {
  try {
    return new Deno.Command("python3", { args: ["-c", "import multiprocessing.connection"] })
        .outputSync().success
      ? "python3"
      : undefined;
  } catch {
    return undefined;
  }
})();
if (PYTHON === undefined && !IS_WINDOWS) {
  console.log("interop_python_test: skipped, no python3 with multiprocessing on this machine");
}

const decoder = new TextDecoder();

async function python(code: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(PYTHON!, {
    args: ["-c", code, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assertEquals(output.code, 0, decoder.decode(output.stderr));
  return decoder.decode(output.stdout);
}

Deno.test({
  name: "interop: multiprocessing.connection.Client gets server.ts's echoes, binary and empty too",
  ignore: PYTHON === undefined,
  async fn() {
    await using server = await Server.start(["--reply", "echo"]);
    const replies = await python(
      `
import sys
from multiprocessing.connection import Client
with Client(sys.argv[1], family="AF_UNIX") as conn:
    for message in [b"hello", bytes(range(256)) * 300, b"", "héllo".encode()]:
        conn.send_bytes(message)
        reply = conn.recv_bytes()
        print(len(reply), reply == message)
`,
      [server.path],
    );
    assertEquals(replies, "5 True\n76800 True\n0 True\n6 True\n");
    await server.waitForCount("message", 4);
    assertEquals(server.eventsOf("message").map((event) => event.bytes), [5, 76800, 0, 6]);
  },
});

Deno.test({
  name: "interop: client.ts sends its lines to a multiprocessing.connection.Listener and exits 0",
  ignore: PYTHON === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "duct-py-" });
    const path = `${dir}/listener.sock`;
    try {
      const listener = new Deno.Command(PYTHON!, {
        args: [
          "-c",
          `
import sys
from multiprocessing.connection import Listener
with Listener(sys.argv[1], family="AF_UNIX") as listener:
    print("ready", flush=True)
    with listener.accept() as conn:
        while True:
            try:
                message = conn.recv_bytes()
            except EOFError:
                break
            print(message.decode(), flush=True)
            conn.send_bytes(sys.argv[2].encode())
`,
          path,
          ACK,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const lines = listener.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("ready\n")) {
        const { value, done } = await lines.read();
        if (done) break;
        seen += value;
      }
      const client = await runClient(["--name", path], { input: "one\ntwo\nthree\n" });
      assertEquals(client.code, 0, client.stderr);
      assertEquals(client.stdout, `${ACK}\n`.repeat(3));
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        seen += value;
      }
      const status = await listener.status;
      assertEquals(
        status.code,
        0,
        decoder.decode((await listener.stderr.getReader().read()).value),
      );
      assertEquals(seen, "ready\none\ntwo\nthree\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "interop: a client that sends until it would block, reads nothing and closes: every " +
    "whole message it sent is printed",
  ignore: PYTHON === undefined,
  async fn() {
    await using server = await Server.start();
    // Unread answers pile up until the server waits for them to drain; closing then resets the
    // connection while the server still has messages to read. Those were sent: none may be lost.
    const sent = await python(
      `
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.setblocking(False)
whole, pending, i, idle = 0, b"", 0, 0
while idle < 200:
    if not pending:
        pending = struct.pack(">I", 8) + b"m%07d" % i
        i += 1
    try:
        pending = pending[s.send(pending):]
        idle = 0
    except BlockingIOError:
        idle += 1
        time.sleep(0.005)
        continue
    if not pending:
        whole += 1
s.close()
print(whole)
`,
      [server.path],
    );
    const whole = Number(sent);
    assert(whole > 1000, `only ${whole} messages went out before the socket was full`);
    await server.waitForCount("disconnected", 1);
    const printed = server.eventsOf("message").map((event) => event.text);
    assertEquals(printed.length, whole);
    assertEquals(printed.at(-1), `m${String(whole - 1).padStart(7, "0")}`);
  },
});
