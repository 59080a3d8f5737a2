/**
 * `client.ts --reconnect`: 10,000 piped lines reach the servers' combined output while the
 * server is killed and restarted, each break's duplicates shown; a server that never comes back
 * makes the client exit 3 with the exact count; `--no-reply` is refused. Unix and Windows (Wine).
 */

import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { removeSocketFile, uniqueName } from "./_endpoints.ts";
import { CLIENT_SCRIPT, LIB_URL, Proc } from "./_process.ts";
import { runClient } from "./_run.ts";
import { Server } from "./_server.ts";

const LINES = 10_000;
const WINDOW = 1000;

/** Each message text a server printed, as numbers, in order. */
function printed(server: Server): number[] {
  return server.events.filter((e) => e.event === "message").map((e) => Number(e.text));
}

function lines(from: number, to: number): string {
  let text = "";
  for (let i = from; i <= to; i++) text += `${i}\n`;
  return text;
}

Deno.test("--reconnect: 10,000 lines survive 3 SIGKILLs and a SIGTERM of the server; only the last window before a break repeats", async () => {
  const name = uniqueName("rc");
  // Kill the server once this many distinct lines have been printed in all, with more in flight.
  const breaks: { after: number; signal: Deno.Signal }[] = [
    { after: 2000, signal: "SIGKILL" },
    { after: 4500, signal: "SIGKILL" },
    // On Windows Deno's SIGTERM terminates the process as SIGKILL does.
    { after: 6500, signal: "SIGTERM" },
    { after: 8500, signal: "SIGKILL" },
  ];
  const servers: Server[] = [];
  const highest = () => Math.max(0, ...servers.flatMap(printed));
  const client = Proc.script(CLIENT_SCRIPT, [
    "--name",
    name,
    "--reconnect",
    "--timeout",
    "60",
    "--json",
  ], { stdin: "piped" });
  try {
    let written = 0;
    for (const { after, signal } of breaks) {
      const server = await Server.start(["--name", name]);
      servers.push(server);
      // Ahead of the kill, so that messages are in flight when it comes.
      // Never all of them: the last server must have lines of its own to print, even when the
      // one before it printed and confirmed everything it was sent before the kill.
      const upTo = Math.min(after + 1500, LINES - 500);
      await client.write(lines(written + 1, upTo));
      written = upTo;
      await server.until(() => highest() >= after, `line ${after} to be printed`);
      server.kill(signal);
      await server.waitForExit("server to exit");
    }
    const last = await Server.start(["--name", name]);
    servers.push(last);
    await client.write(lines(written + 1, LINES));
    await client.closeStdin();
    const status = await client.waitForExit("client to exit");
    assertEquals(status.code, 0, client.stderr);
    await last.stop();

    // Each server printed one unbroken run; each run starts at most a window before the end of
    // the previous one (the replayed, possibly duplicated, messages), and never after it.
    const runs = servers.map(printed);
    let end = 0;
    const duplicates: number[] = [];
    for (const [index, run] of runs.entries()) {
      assert(run.length > 0, `server ${index + 1} printed nothing`);
      run.forEach((value, i) => assertEquals(value, run[0] + i, `server ${index + 1} skipped`));
      assert(run[0] <= end + 1, `server ${index + 1} starts at ${run[0]}, after ${end}: lost`);
      assert(run[0] > end - WINDOW, `server ${index + 1} replayed more than the window`);
      duplicates.push(Math.max(0, end - run[0] + 1));
      end = Math.max(end, run.at(-1)!);
    }
    assertEquals(end, LINES);
    // At least once, not exactly once: the duplicates at each break are reported, not hidden.
    console.log(`duplicates at each break: ${duplicates.slice(1).join(", ")}`);
    const replies = client.stdout.split("\n").filter((line) => line.includes('"reply"'));
    assertEquals(replies.length, LINES);
    // Every break is reported and followed by a reconnection. A break can count twice: right
    // after a SIGKILL the dying server's listening socket may still take the reconnection into its
    // queue, and then reset it as the process finishes exiting (seen under load).
    const reconnects = client.stderr.match(/reconnecting \(waiting up to 60 s for a server\)/g);
    assert((reconnects?.length ?? 0) >= breaks.length, client.stderr);
    assertEquals(client.stderr.match(/reconnected to /g)?.length, reconnects!.length);
  } finally {
    await client[Symbol.asyncDispose]();
    for (const server of servers) await server.stop();
  }
});

Deno.test("--reconnect: no server comes back within --timeout: exit 3, the exact count, and --json lists them", async () => {
  const name = uniqueName("rc-gone");
  const server = await Server.start(["--name", name]);
  const client = Proc.script(CLIENT_SCRIPT, [
    "--name",
    name,
    "--reconnect",
    "--timeout",
    "1",
    "--json",
  ], { stdin: "piped" });
  try {
    await client.write(lines(1, 10));
    const answered = () => client.stdout.split('"event":"reply"').length - 1;
    await client.until(() => answered() === 10, "10 replies");
    server.kill("SIGKILL");
    await server.waitForExit("server to exit");
    // Never delivered anywhere: the server is gone for good.
    await client.write(lines(11, 15));
    await client.closeStdin();
    const status = await client.waitForExit("client to exit");
    assertEquals(status.code, 3, client.stderr);
    assertStringIncludes(
      client.stderr,
      `no server came back on ${name} within 1 s: 5 of 15 messages were never confirmed`,
    );
    const unconfirmed = client.stdout.split("\n").filter((line) => line.includes("unconfirmed"))
      .map((line) => JSON.parse(line));
    assertEquals(
      unconfirmed,
      ["11", "12", "13", "14", "15"].map((text) => ({
        event: "unconfirmed",
        text,
      })),
    );
  } finally {
    await client[Symbol.asyncDispose]();
    await server.stop();
    // The killed server could not remove its socket file.
    await removeSocketFile(server.path);
  }
});

Deno.test("--reconnect with --no-reply is a usage error; --window needs --reconnect", async () => {
  const refused = await runClient(["--reconnect", "--no-reply", "x"]);
  assertEquals(refused.code, 64);
  assertStringIncludes(refused.stderr, "--reconnect needs the server's replies");
  const window = await runClient(["--window", "5", "x"]);
  assertEquals(window.code, 64);
  assertStringIncludes(window.stderr, "--window applies only with --reconnect");
  const zero = await runClient(["--reconnect", "--window", "0", "x"]);
  assertEquals(zero.code, 64);
  assertStringIncludes(zero.stderr, "--window takes a whole number of at least 1");
});

Deno.test("docs/library.md: the ReliableSender example runs as printed against an echo server", async () => {
  const page = (await Deno.readTextFile(new URL("../docs/library.md", import.meta.url)))
    .replaceAll("\r\n", "\n");
  const section = page.indexOf("\n## Reliable sending across restarts");
  const start = page.indexOf("```ts\n", section);
  assert(section >= 0 && start >= 0, "docs/library.md's ReliableSender example is where expected");
  const code = page.slice(start + "```ts\n".length, page.indexOf("```", start + 5));
  await using server = await Server.start(["--reply", "echo"]);
  const program = code.replace('"../lib/mod.ts"', JSON.stringify(LIB_URL))
    .replace('"collector"', JSON.stringify(server.name));
  await using proc = Proc.eval(program);
  const output = await proc.output();
  assertEquals(output.code, 0, output.stderr);
  await server.waitForCount("message", 3);
  assertEquals(server.eventsOf("message").map((e) => e.text), ["one", "two", "three"]);
});
