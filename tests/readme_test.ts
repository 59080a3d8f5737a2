/**
 * What the README shows, run as a user would: the quick start through `deno task` (the tasks must
 * carry every permission the programs need: a missing `--allow-net` once broke `deno task server`
 * while `-A` tests passed), and the library example, verbatim but for its endpoint name: as
 * printed (and docs/library.md's copy of it), and with its server attacked by hostile peers while other clients keep their echoes.
 */

import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { ACK } from "../server.ts";
import { endpointPath, uniqueName } from "./_endpoints.ts";
import { IS_WINDOWS } from "./_process.ts";
import { connect, type Connection } from "../lib/mod.ts";

const ROOT = new URL("..", import.meta.url);

function task(args: string[], stdin: "null" | "piped" = "null") {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: ROOT,
    stdin,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

Deno.test({
  name: "readme: `deno task server` and `deno task client` exchange a message as the README shows",
  ignore: IS_WINDOWS, // stopping `deno task` relies on SIGTERM being forwarded
  async fn() {
    const name = uniqueName("task");
    const server = task(["server", "--name", name, "--json"]);
    try {
      const listening = JSON.parse(await firstLine(server.stdout));
      assertEquals(listening.event, "listening");
      const client = await task(["client", "--name", name, "hello"]).output();
      assertEquals(new TextDecoder().decode(client.stderr), "");
      assertEquals(client.code, 0);
      assertStringIncludes(new TextDecoder().decode(client.stdout), ACK);
    } finally {
      server.kill("SIGTERM");
      const status = await server.status;
      await server.stderr.cancel();
      assertEquals(status.code, 0, "the server stops cleanly on SIGTERM");
    }
  },
});

/**
 * The library example of README.md (or of docs/library.md, which shows it too), verbatim but for
 * its endpoint name, split where the client part begins (the `// Client.` comment).
 */
async function libraryExample(
  name: string,
  page = "README.md",
): Promise<{ server: string; client: string }> {
  // A Windows checkout without .gitattributes has CRLF: the search below must not depend on it.
  const text = (await Deno.readTextFile(new URL(page, ROOT))).replaceAll("\r\n", "\n");
  const code = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map(([, code]) => code)
    .find((code) => code.includes("// Client."));
  assert(code !== undefined, `${page} has the library example, with its \`// Client.\` part`);
  const runnable = code.replace(
    /"\.\.?\/lib\/mod\.ts"/,
    JSON.stringify(new URL("lib/mod.ts", ROOT).href),
  )
    .replaceAll('"testPipe"', JSON.stringify(name));
  const split = runnable.indexOf("// Client.");
  return { server: runnable.slice(0, split), client: runnable.slice(split) };
}

for (const page of ["README.md", "docs/library.md"]) {
  Deno.test(`${page}: the library example runs as printed and prints the echoed frames`, async () => {
    const { server, client } = await libraryExample(uniqueName("readme"), page);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", server + client],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assertEquals(new TextDecoder().decode(output.stderr), "");
    assertEquals(new TextDecoder().decode(output.stdout), "hello\nworld\n");
    assertEquals(output.code, 0);
  });
}

/**
 * A hostile raw peer in Python: `reset` (waits for the echo, leaves it unread), `leave` (100
 * peers that each send a frame and hang up at once, half of them with a reset), `header`
 * (FF FF FF FF) or `cut` (a cut-off frame).
 */
const PYTHON_PEER = `
import select, socket, struct, sys
path, mode = sys.argv[1], sys.argv[2]
if mode == "leave":
    for i in range(100):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(struct.pack(">I", 5) + b"hello")
        s.close()
    print("left")
    sys.exit()
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(20)
if mode == "reset":
    # Send a frame, wait until its echo has arrived, and close without reading it.
    s.sendall(struct.pack(">I", 3) + b"bye")
    select.select([s], [], [], 20)
    s.close()
    print("left")
else:
    s.sendall(b"\\xff\\xff\\xff\\xff" if mode == "header" else struct.pack(">I", 10) + b"abc")
    if mode == "cut":
        s.shutdown(socket.SHUT_WR)
    # The server must close the connection, not leave this peer waiting.
    print("closed" if s.recv(1) == b"" else "answered")
`;

async function python(path: string, mode: string): Promise<string> {
  const output = await new Deno.Command("python3", {
    args: ["-c", PYTHON_PEER, path, mode],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(output.stderr), "", `python peer (${mode})`);
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test({
  name: "readme: the library example's server survives resets, bad headers, cut-off frames, " +
    "100 clients at once, and keeps echoing for the others",
  ignore: IS_WINDOWS, // the hostile peers are Python Unix sockets
  async fn() {
    const name = uniqueName("readme-attack");
    const { server, client } = await libraryExample(name);
    // The README's client part runs once the attacks are over (a line on stdin says so).
    const pause = 'console.log("ready");\nfor await (const _ of Deno.stdin.readable) break;\n';
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", server + pause + client],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const failsafe = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stdout = "";
    const readStdout = async (until?: string) => {
      while (until === undefined || !stdout.includes(until)) {
        const { value, done } = await reader.read();
        if (done) return;
        stdout += value;
      }
    };
    const stderrText = new Response(child.stderr).text();
    try {
      await readStdout("\n");
      assertEquals(stdout, "ready\n");
      const path = endpointPath(name);
      await using witness = await connect({ name });
      const echoed = async (conn: Connection, message: string) => {
        await conn.send(message);
        assertEquals(new TextDecoder().decode((await conn.receive())!), message);
      };
      await echoed(witness, "before");
      assertEquals(await python(path, "reset"), "left");
      await echoed(witness, "after a reset");
      assertEquals(await python(path, "leave"), "left");
      await echoed(witness, "after 100 clients that sent and left");
      assertEquals(await python(path, "header"), "closed");
      await echoed(witness, "after a bad header");
      assertEquals(await python(path, "cut"), "closed");
      await echoed(witness, "after a cut-off frame");
      await Promise.all(Array.from({ length: 100 }, async (_, i) => {
        await using conn = await connect({ name });
        await echoed(conn, `client ${i}`);
      }));
      await echoed(witness, "after 100 clients");
    } finally {
      const stdin = child.stdin.getWriter();
      await stdin.write(new TextEncoder().encode("go\n")).catch(() => {});
      await stdin.close().catch(() => {});
    }
    await readStdout();
    const [stderr, status] = [await stderrText, await child.status];
    clearTimeout(failsafe);
    assertEquals(stdout, "ready\nhello\nworld\n");
    assertEquals(status.code, 0, stderr);
    const dropped = stderr.trimEnd().split("\n");
    for (const line of dropped) assert(line.startsWith("client dropped: "), stderr);
    assertStringIncludes(stderr, "client dropped: cannot receive: the peer closed the connection");
    assertStringIncludes(stderr, "client dropped: frame of 4294967295 bytes is larger than");
    assertStringIncludes(stderr, "client dropped: connection closed in the middle of a frame");
  },
});

Deno.test({
  name: "readme: a library program needs exactly the permissions README and docs/library.md list",
  ignore: IS_WINDOWS, // there --allow-ffi is needed too; the compiled-permissions test covers it
  async fn() {
    const listed = "`--allow-env --allow-read --allow-write --allow-sys --allow-net`";
    for (const page of ["README.md", "docs/library.md"]) {
      assertStringIncludes(await Deno.readTextFile(new URL(page, ROOT)), listed, page);
    }
    const flags = listed.slice(1, -1).split(" ");
    const program = `
      import { connect, listen } from ${JSON.stringify(new URL("lib/mod.ts", ROOT).href)};
      try {
        await using _listener = await listen({ name: ${JSON.stringify(uniqueName("perm"))} });
        await using _conn = await connect({ name: _listener.endpoint.name, timeout: 1000 });
        console.log("ok");
      } catch (error) {
        console.log(\`\${(error as Error).name}: \${(error as Error).message}\`);
      }`;
    // `deno eval` would grant everything: a file run with `deno run` gets only the flags given.
    const script = await Deno.makeTempFile({ suffix: ".ts" });
    try {
      await Deno.writeTextFile(script, program);
      const run = async (granted: string[]) => {
        const output = await new Deno.Command(Deno.execPath(), {
          args: ["run", "--no-prompt", ...granted, script],
          env: { NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        return new TextDecoder().decode(output.stdout).trim();
      };
      assertEquals(await run(flags), "ok");
      for (const missing of flags) {
        const result = await run(flags.filter((flag) => flag !== missing));
        assert(result.startsWith("NotCapable: "), `without ${missing}: ${result}`);
        assertStringIncludes(result, `run again with the ${missing} flag`);
      }
    } finally {
      await Deno.remove(script);
    }
  },
});
