/**
 * Windows only: duct against classic Win32 programs (the C peers in `tests/peers/`, message-mode
 * duplex pipes with NUL-terminated strings) in both directions, through the library and through
 * the CLI with `--framing nul`; and 200 concurrent clients served by `server.ts` while the thread
 * count of its process, read by this process in Linux's `/proc` (drive `Z:` under Wine), stays
 * flat. Run under Wine with `deno task test:wine`, which builds the peers with mingw.
 *
 * @module
 */

import { assert, assertEquals, assertLessOrEqual, assertStrictEquals } from "./_assert.ts";
import { ACK } from "../server.ts";
import { endpointPath, uniqueName } from "./_endpoints.ts";
import { IS_WINDOWS, UNDER_WINE } from "./_process.ts";
import { runClient } from "./_run.ts";
import { Server } from "./_server.ts";
import { peer } from "./_peers.ts";
import { connect, listen } from "../lib/api.ts";
import type { Connection } from "../lib/connection.ts";

// Wine leaves a pipe created without a security descriptor (as the classic server's is) with no
// owner, which the client's owner check does not trust; Windows makes this user its owner.
const TRUST = UNDER_WINE ? "any" : "self";

/** Linux's /proc as Wine shows it; absent on real Windows. */
const LINUX_PROC = "Z:\\proc";
/** Clients held connected at once in the thread-count test. */
const CLIENTS = 200;
/** Threads the server process may gain while serving them (see the test for why not zero). */
const THREAD_SLACK = 2;
const decoder = new TextDecoder();

/** A running C peer with its stdout collected. */
function spawnPeer(exe: string, args: string[]) {
  const child = new Deno.Command(exe, { args, stdout: "piped", stderr: "piped" }).spawn();
  const lines: string[] = [];
  const { promise: readyLine, resolve: ready } = Promise.withResolvers<void>();
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      for (let end; (end = rest.indexOf("\n")) >= 0; rest = rest.slice(end + 1)) {
        const line = rest.slice(0, end).replace(/\r$/, "");
        lines.push(line);
        if (line === "ready") ready();
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  return {
    lines,
    readyLine,
    async done() {
      const status = await child.status;
      await reading;
      return { code: status.code, lines, stderr: await stderr };
    },
  };
}

Deno.test({
  name: "windows interop: classic C server <-> duct library client, nul framing",
  ignore: !IS_WINDOWS,
  async fn() {
    const exe = await peer("classic_server");
    const name = uniqueName("cserver");
    const server = spawnPeer(exe, [endpointPath(name), "1"]);
    await server.readyLine;
    const conn = await connect({ name, framing: "nul", timeout: 10_000, trustServer: TRUST });
    const replies: string[] = [];
    for (const message of ["hello", "wörld", ""]) {
      await conn.send(message);
      const reply = await conn.receive();
      assert(reply !== null, "the classic server hung up");
      replies.push(decoder.decode(reply));
    }
    await conn.close();
    const { code, lines, stderr } = await server.done();
    assertStrictEquals(code, 0, stderr);
    assertEquals(replies, [ACK, ACK, ACK]);
    assertEquals(lines, ["ready", "client: hello", "client: wörld", "client: "]);
  },
});

Deno.test({
  name: "windows interop: classic C server <-> client.ts --framing nul",
  ignore: !IS_WINDOWS,
  async fn() {
    const exe = await peer("classic_server");
    const name = uniqueName("cserver-cli");
    const path = endpointPath(name);
    const server = spawnPeer(exe, [path, "1"]);
    await server.readyLine;
    const output = await runClient([
      ...["--name", path, "--framing", "nul", "--trust-server", TRUST],
      ...["first", "second"],
    ]);
    const { code, lines, stderr } = await server.done();
    assertStrictEquals(output.code, 0, output.stderr);
    assertEquals(output.lines.filter((line) => line !== ""), [ACK, ACK]);
    assertStrictEquals(code, 0, stderr);
    assertEquals(lines, ["ready", "client: first", "client: second"]);
  },
});

Deno.test({
  name: "windows interop: duct library server <-> classic C client, nul framing",
  ignore: !IS_WINDOWS,
  async fn() {
    const exe = await peer("classic_client");
    const name = uniqueName("cclient");
    await using listener = await listen({ name, framing: "nul" });
    const received: string[] = [];
    const serving = (async () => {
      const conn = await listener.accept();
      assert(conn !== null);
      for (let message; (message = await conn.receive()) !== null;) {
        received.push(decoder.decode(message));
        await conn.send(ACK);
      }
      await conn.close();
    })();
    const client = spawnPeer(exe, [endpointPath(name), "one", "two words", "three"]);
    const { code, lines, stderr } = await client.done();
    await serving;
    assertStrictEquals(code, 0, stderr);
    assertEquals(lines, [`server: ${ACK}`, `server: ${ACK}`, `server: ${ACK}`]);
    assertEquals(received, ["one", "two words", "three"]);
  },
});

Deno.test({
  name: "windows interop: server.ts --framing nul <-> classic C client",
  ignore: !IS_WINDOWS,
  async fn() {
    const exe = await peer("classic_client");
    await using server = await Server.start(["--framing", "nul"]);
    const client = spawnPeer(exe, [server.path, "alpha", "beta"]);
    const { code, lines, stderr } = await client.done();
    assertStrictEquals(code, 0, stderr);
    assertEquals(lines, [`server: ${ACK}`, `server: ${ACK}`]);
    await server.waitForCount("message", 2);
    assertEquals(server.eventsOf("message").map((event) => event.text), ["alpha", "beta"]);
  },
});

Deno.test({
  name: `windows: ${CLIENTS} concurrent clients; server.ts's thread count stays flat (Linux /proc)`,
  ignore: !UNDER_WINE,
  async fn() {
    await using server = await Server.start(["--reply", "echo"]);
    const pid = await linuxPidOf(server.name);

    const first = await connect({ name: server.name, timeout: 10_000 });
    await exchange(first, "warm-up");
    const baseline = await threadCount(pid);

    // Sample the count the whole time the clients connect, talk and stay connected.
    let sampling = true;
    let peak = baseline;
    const sampler = (async () => {
      while (sampling) peak = Math.max(peak, await threadCount(pid));
    })();
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const conn = await connect({ name: server.name, timeout: 60_000 });
        await exchange(conn, `client ${i}`);
        return conn;
      }),
    );
    await server.waitForCount("connected", CLIENTS + 1);
    // All connected at once, each with an idle read pending in the server.
    await Promise.all(clients.map((conn, i) => exchange(conn, `again ${i}`)));
    const loaded = await threadCount(pid);
    sampling = false;
    await sampler;
    console.log(
      `server threads: ${baseline} with 1 client, ${loaded} with ${CLIENTS + 1}, ` +
        `peak ${peak}`,
    );

    await Promise.all([first, ...clients].map((conn) => conn.close()));
    await server.waitForCount("disconnected", CLIENTS + 1);
    // Flat: no thread per client or per pending read. A little slack for Deno's own pool
    // (a stdout write on a worker thread may overlap the one completion-port waiter).
    assertLessOrEqual(peak, baseline + THREAD_SLACK);
    assertLessOrEqual(loaded, baseline + THREAD_SLACK);
  },
});

async function exchange(conn: Connection, text: string): Promise<void> {
  await conn.send(text);
  const reply = await conn.receive();
  assert(reply !== null, `no echo for ${text}`);
  assertStrictEquals(decoder.decode(reply), text);
}

/** Threads of Linux process `pid`: the entries of /proc/PID/task. */
async function threadCount(pid: string): Promise<number> {
  let count = 0;
  for await (const _ of Deno.readDir(`${LINUX_PROC}\\${pid}\\task`)) count++;
  return count;
}

/**
 * The Linux pid of the Wine process whose command line holds `marker` (the server's unique
 * endpoint name). Wine opens files through its wineserver, so /proc/self would be that server's;
 * the command lines in /proc name the process instead.
 */
async function linuxPidOf(marker: string): Promise<string> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(LINUX_PROC)) {
    if (!/^\d+$/.test(entry.name)) continue;
    let commandLine: string;
    try {
      commandLine = await Deno.readTextFile(`${LINUX_PROC}\\${entry.name}\\cmdline`);
    } catch {
      continue; // Gone meanwhile.
    }
    if (commandLine.includes(marker)) found.push(entry.name);
  }
  assertStrictEquals(found.length, 1, `processes holding ${marker}: ${found.join(", ")}`);
  return found[0];
}
