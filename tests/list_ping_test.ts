/**
 * `client.ts --list` and `--ping` against real servers: live and stale endpoints on Unix, the
 * machine's pipes on Windows (Wine), the connect time, and exit 2 when nobody answers.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./_assert.ts";
import { IS_WINDOWS, UNDER_WINE } from "./_process.ts";
import { jsonLines, runClient } from "./_run.ts";
import { Server } from "./_server.ts";
import { pipeEntries } from "../lib/windows/list.ts";

/**
 * On Unix, an environment with a runtime directory of its own: `--list` probes every live socket
 * of duct's per-user directory, and in the shared one that would connect to the servers of tests
 * running in parallel (each would log a client it did not expect).
 */
async function ownDirectory(): Promise<{ env?: Record<string, string> }> {
  if (IS_WINDOWS) return {};
  const dir = await Deno.makeTempDir({ prefix: "duct-list-" });
  await Deno.chmod(dir, 0o700);
  return { env: { XDG_RUNTIME_DIR: dir } };
}

// Wine cannot list `\\.\pipe\` (FindFirstFileW fails with ERROR_BAD_DEV_TYPE): there the
// Windows listing is not provable, and the test checks the error says so instead.

Deno.test({
  name: "--list under Wine says that the pipe directory cannot be listed, and what to do",
  ignore: !UNDER_WINE,
  async fn() {
    const output = await runClient(["--list"]);
    assertEquals(output.code, 1);
    assertStringIncludes(output.stderr, "does not list its pipe directory");
    assertStringIncludes(output.stderr, "--ping --name NAME");
  },
});

Deno.test({
  name: "--list --json shows a running server's endpoint as live, reachable by its plain name",
  ignore: UNDER_WINE,
  fn: async () => {
    const own = await ownDirectory();
    await using server = await Server.start([], own);
    const output = await runClient(["--list", "--json"], own);
    assertEquals(output.code, 0, output.stderr);
    const found = jsonLines(output).find((endpoint) => endpoint.name === server.name);
    assertEquals(found, { name: server.name, path: server.path, state: "live", plainName: true });
    // On Unix the probe is a connection: the server logs it as a client that came and went.
    if (!IS_WINDOWS) await server.waitForCount("disconnected", 1);
  },
});

Deno.test({
  name: "--list marks the socket a killed server left as stale, in a table with a header",
  ignore: IS_WINDOWS,
  async fn() {
    const own = await ownDirectory();
    const stale = await Server.start([], own);
    stale.kill("SIGKILL");
    await stale.output();
    try {
      await using live = await Server.start([], own);
      const output = await runClient(["--list"], own);
      assertEquals(output.code, 0, output.stderr);
      assertMatch(output.lines[0], /^NAME +STATE +PATH$/);
      const row = (name: string) => output.lines.find((line) => line.startsWith(`${name} `));
      assertMatch(row(stale.name) ?? "", new RegExp(`^${stale.name} +stale +${stale.path}$`));
      assertMatch(row(live.name) ?? "", new RegExp(`^${live.name} +live +${live.path}$`));
    } finally {
      await stale[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name: "--list on Windows lists the pipes of the machine, a backslash name as not plain",
  ignore: !IS_WINDOWS || UNDER_WINE,
  async fn() {
    await using server = await Server.start();
    await using nested = await Server.start([], { name: `\\\\.\\pipe\\${server.name}\\inner` });
    const output = await runClient(["--list", "--json"]);
    assertEquals(output.code, 0, output.stderr);
    const byName = new Map(jsonLines(output).map((endpoint) => [endpoint.name, endpoint]));
    assertEquals(byName.get(server.name)?.plainName, true);
    assertEquals(byName.get(`${server.name}\\inner`)?.plainName, false, output.stdout);
    assertEquals(byName.get(`${server.name}\\inner`)?.path, nested.path);
    const table = await runClient(["--list"]);
    assertMatch(table.lines[0], /^NAME +STATE +PLAIN NAME +PATH$/);
  },
});

Deno.test("--ping prints the connect time; the server logs one connected/disconnected pair", async () => {
  await using server = await Server.start();
  const output = await runClient(["--ping", "--name", server.name]);
  assertEquals(output.code, 0, output.stderr);
  assertMatch(output.stdout, new RegExp(`^a server answered on ${server.name} in [\\d.]+ ms\\n$`));
  await server.waitForCount("disconnected", 1);
  assertEquals(server.eventsOf("connected").length, 1);
  assertEquals(server.eventsOf("message").length, 0);
  const json = await runClient(["--ping", "--name", server.name, "--json"]);
  const [event] = jsonLines(json);
  assertEquals(event.event, "ping");
  assert(typeof event.ms === "number" && event.ms >= 0, json.stdout);
});

Deno.test("--ping with nobody listening exits 2 with the usual message", async () => {
  const output = await runClient(["--ping", "--name", "duct-ping-nobody", "--timeout", "0.2"]);
  assertEquals(output.code, 2);
  assertStringIncludes(output.stderr, "no server is listening on duct-ping-nobody");
  assertEquals(output.stdout, "");
});

Deno.test("--list and --ping refuse options that do not apply, and are in --help", async () => {
  const list = await runClient(["--list", "--name", "x"]);
  assertEquals(list.code, 64);
  assertStringIncludes(list.stderr, "--list does not take --name");
  const ping = await runClient(["--ping", "hello"]);
  assertEquals(ping.code, 64);
  assertStringIncludes(ping.stderr, "--ping takes no MESSAGE");
  const help = await runClient(["--help"]);
  for (const option of ["--list", "--ping", "--reconnect", "--window"]) {
    assertStringIncludes(help.stdout, option);
  }
});

Deno.test("a Windows listing names each pipe once, sorted (pipes come and go between batches)", () => {
  const entries = pipeEntries(["lsass", "duct-a", "LOCAL\\x", "duct-a", "InitShutdown"]);
  assertEquals(entries.map((entry) => entry.name), ["InitShutdown", "LOCAL\\x", "duct-a", "lsass"]);
  assertEquals(entries[1], {
    name: "LOCAL\\x",
    path: "\\\\.\\pipe\\LOCAL\\x",
    state: "live",
    plainName: false,
  });
});
