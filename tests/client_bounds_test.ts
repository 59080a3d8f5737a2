/**
 * `client.ts` against servers that read and never answer, or die while a message waits for room:
 * every wait is bounded (`--reply-timeout`), every message counted is answered or listed, and
 * Ctrl+C says (and with `--json` lists) what was never confirmed. The silent server is this
 * process, through the library: it reads every frame and answers none.
 *
 * @module
 */

import { assertEquals, assertStringIncludes } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { CLIENT_SCRIPT, IS_WINDOWS, Proc } from "./_process.ts";
import { runClient } from "./_run.ts";
import { type Connection, listen, type Listener } from "../lib/mod.ts";

/** A server that reads every frame and never answers; counts what it read. */
class SilentServer implements AsyncDisposable {
  readonly name = uniqueName("silent");
  received = 0;
  readonly #conns: Connection[] = [];
  #listener: Listener | undefined;
  #serving: Promise<void> | undefined;
  #changed = Promise.withResolvers<void>();

  static async start(): Promise<SilentServer> {
    const server = new SilentServer();
    server.#listener = await listen({ name: server.name });
    server.#serving = server.#serve(server.#listener);
    return server;
  }

  async #serve(listener: Listener): Promise<void> {
    for await (const conn of listener) {
      this.#conns.push(conn);
      (async () => {
        try {
          while ((await conn.receive()) !== null) {
            this.received++;
            this.#changed.resolve();
            this.#changed = Promise.withResolvers();
          }
        } catch { /* the client left */ }
      })();
    }
  }

  /** Resolves once `count` frames were read in all. */
  async read(count: number): Promise<void> {
    while (this.received < count) await this.#changed.promise;
  }

  /** Stops listening and drops every connection, as a server that dies. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#listener?.close();
    for (const conn of this.#conns) conn.abort();
    await this.#serving;
  }
}

function lines(count: number): string {
  return Array.from({ length: count }, (_, i) => `${i + 1}\n`).join("");
}

function unconfirmedTexts(stdout: string): string[] {
  return stdout.split("\n").filter((line) => line.includes('"unconfirmed"'))
    .map((line) => JSON.parse(line).text);
}

Deno.test("client: a server that reads and never answers: exit 3 after --reply-timeout, with the count", async () => {
  await using server = await SilentServer.start();
  const output = await runClient(["--name", server.name, "--reply-timeout", "0.5"], {
    input: lines(10),
  });
  assertEquals(output.code, 3, output.stderr);
  assertEquals(
    output.stderr,
    "duct-client: error: the server sent no reply for 0.5 s (--reply-timeout; if it never " +
      "answers, as with --reply none, use --no-reply): 10 of 10 messages were not confirmed\n",
  );
  assertEquals(server.received, 10);
});

Deno.test("client: --reconnect --window 5 against a silent server: exit 3 after --reply-timeout, the 5 listed", async () => {
  await using server = await SilentServer.start();
  const output = await runClient([
    "--name",
    server.name,
    "--reconnect",
    "--window",
    "5",
    "--reply-timeout",
    "0.5",
    "--json",
  ], { input: lines(100) });
  assertEquals(output.code, 3, output.stderr);
  assertEquals(
    output.stderr,
    "duct-client: error: the server sent no reply for 0.5 s (--reply-timeout): 5 of 5 messages " +
      "were never confirmed; the rest of the input was not sent\n",
  );
  assertEquals(unconfirmedTexts(output.stdout), ["1", "2", "3", "4", "5"]);
});

Deno.test("client: --reconnect gives up: the message waiting for room is not counted; every one counted is answered or listed", async () => {
  const server = await SilentServer.start();
  await using client = Proc.script(CLIENT_SCRIPT, [
    "--name",
    server.name,
    "--reconnect",
    "--window",
    "5",
    "--timeout",
    "0.5",
    "--reply-timeout",
    "0",
    "--json",
  ], { stdin: "piped" });
  // Line 6 waits for room in the full window when the server dies.
  await client.write(lines(6));
  await server.read(5);
  await server[Symbol.asyncDispose]();
  const status = await client.waitForExit("the client to give up");
  assertEquals(status.code, 3, client.stderr);
  assertStringIncludes(
    client.stderr,
    `no server came back on ${server.name} within 0.5 s: 5 of 5 messages were never confirmed; ` +
      "the rest of the input was not sent",
  );
  assertEquals(unconfirmedTexts(client.stdout), ["1", "2", "3", "4", "5"]);
});

Deno.test({
  name: "client: Ctrl+C with --reconnect --json lists the unconfirmed messages and says how many",
  // Deno on Windows cannot send SIGINT to another process.
  ignore: IS_WINDOWS,
  async fn() {
    await using server = await SilentServer.start();
    await using client = Proc.script(CLIENT_SCRIPT, [
      "--name",
      server.name,
      "--reconnect",
      "--window",
      "5",
      "--reply-timeout",
      "0",
      "--json",
    ], { stdin: "piped" });
    await client.write(lines(100));
    await server.read(5);
    client.kill("SIGINT");
    const status = await client.waitForExit("the client to stop on SIGINT");
    assertEquals(status.code, 130, client.stderr);
    assertEquals(unconfirmedTexts(client.stdout), ["1", "2", "3", "4", "5"]);
    assertEquals(
      client.stderr,
      "duct-client: error: interrupted: 5 of 5 messages were not confirmed\n",
    );
  },
});

Deno.test("client: --reply-timeout is checked, and cannot go with --no-reply", async () => {
  const bad = await runClient(["--reply-timeout", "soon", "x"]);
  assertEquals(bad.code, 64);
  assertStringIncludes(bad.stderr, `--reply-timeout takes a number of seconds, not "soon"`);
  const both = await runClient(["--reply-timeout", "1", "--no-reply", "x"]);
  assertEquals(both.code, 64);
  assertStringIncludes(both.stderr, "--reply-timeout bounds the wait for replies");
});
