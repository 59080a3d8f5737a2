/**
 * Tests of `client.ts` on a terminal: its stdin, stdout and stderr on a pseudo-terminal driven by
 * `_pty.py` (Python's `pty` module; Unix only), against the real server.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./_assert.ts";
import { ACK } from "../server.ts";
import { uniqueName } from "./_endpoints.ts";
import { CLIENT_SCRIPT, IS_WINDOWS, Proc } from "./_process.ts";
import { Server } from "./_server.ts";
import { PROMPT } from "../client.ts";

const PTY_SCRIPT = new URL("./_pty.py", import.meta.url).pathname;

type Step = ["expect" | "send" | "sync", string];

/**
 * Runs the client on a terminal through `steps`; at each `sync` step calls `onSync(label)`
 * before the script goes on. Resolves with everything the terminal showed and the exit status.
 */
async function onTerminal(
  args: string[],
  steps: Step[],
  onSync: (label: string) => Promise<void> = () => Promise.resolve(),
): Promise<{ output: string; status: number }> {
  await using pty = new Proc(
    [PTY_SCRIPT, JSON.stringify(steps), Deno.execPath(), "run", "-A", CLIENT_SCRIPT, ...args],
    { command: "python3", stdin: "piped" },
  );
  for (const [action, label] of steps) {
    if (action !== "sync") continue;
    await pty.waitForLine((line) => line === label, label);
    await onSync(label);
    await pty.write("\n");
  }
  const result = await pty.waitForEvent((event) => "status" in event, "the client's exit");
  return result as { output: string; status: number };
}

/** The terminal's text after the last prompt. */
function afterLastPrompt(output: string): string {
  return output.slice(output.lastIndexOf(PROMPT) + PROMPT.length);
}

Deno.test({
  name: "client on a terminal: the server stops after every answer: a note on its own line, exit 0",
  ignore: IS_WINDOWS,
  async fn() {
    await using server = await Server.start();
    const { output, status } = await onTerminal(["--name", server.name], [
      ["expect", PROMPT],
      ["send", "hello\n"],
      ["expect", ACK],
      ["expect", PROMPT],
      ["sync", "answered"],
    ], async () => {
      server.kill("SIGTERM");
      await server.output();
    });
    assertEquals(status, 0, output);
    // The prompt's line is ended before the note (the terminal shows \n as \r\n).
    assertEquals(afterLastPrompt(output), "\r\nduct-client: server closed the connection\r\n");
  },
});

Deno.test({
  name: "client on a terminal: Ctrl+C at the prompt ends its line and exits 130",
  ignore: IS_WINDOWS,
  async fn() {
    await using server = await Server.start();
    const { output, status } = await onTerminal(["--name", server.name], [
      ["expect", PROMPT],
      ["send", "\u0003"],
    ]);
    assertEquals(status, 130, output);
    // The terminal may echo ^C; then the client's newline, and nothing else.
    assertMatch(afterLastPrompt(output), /^(\^C)?\r\n$/);
  },
});

Deno.test({
  name: "client on a terminal: one 'waiting for NAME…' line while the server is absent",
  ignore: IS_WINDOWS,
  async fn() {
    const name = uniqueName("wait");
    let server: Server | undefined;
    try {
      const { output, status } = await onTerminal(["--name", name, "--timeout", "60"], [
        ["expect", `duct-client: waiting for ${name}…\r\n`],
        ["sync", "waiting"],
        ["expect", PROMPT],
        ["send", "\u0004"],
      ], async () => {
        server = await Server.start([], { name });
      });
      assertEquals(status, 0, output);
      assertEquals(output.split("waiting for").length, 2, output);
      assert(output.endsWith(`${PROMPT}\r\n`), JSON.stringify(output));
    } finally {
      await server?.[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name:
    "client on a terminal: replies are shown for reading: 'server: ' and escaped, a long one cut",
  ignore: IS_WINDOWS,
  async fn() {
    await using server = await Server.start(["--reply", "echo"]);
    const long = "y".repeat(3000);
    const { output, status } = await onTerminal(
      ["--name", server.name, "tab\there \x1b[1mbold", "back\\slash", long],
      [],
    );
    assertEquals(status, 0, output);
    // The label may be coloured (cyan); the payloads' own escape bytes are shown as text.
    // deno-lint-ignore no-control-regex
    const shown = output.replace(/\x1b\[3[69]m/g, "").split("\r\n");
    assertEquals(shown.filter((line) => line !== ""), [
      "server: tab\\there \\x1b[1mbold",
      "server: back\\\\slash",
      `server: ${"y".repeat(1024)}… (3000 bytes)`,
    ]);
  },
});

Deno.test({
  name:
    "client on a terminal: --reconnect's notes start on a line of their own, then the prompt again",
  ignore: IS_WINDOWS,
  async fn() {
    // Disposed, so that the socket file the killed server leaves is removed.
    await using server = await Server.start();
    const { output, status } = await onTerminal(
      ["--name", server.name, "--reconnect", "--timeout", "0.2"],
      [
        ["expect", PROMPT],
        ["send", "hello\n"],
        ["expect", ACK],
        ["expect", PROMPT],
        ["sync", "answered"],
        ["expect", "duct-client: error: no server came back"],
      ],
      async () => {
        server.kill("SIGKILL");
        await server.output();
      },
    );
    assertEquals(status, 3, output);
    // The break's note ends the prompt's line first; the prompt is shown again after it.
    assertStringIncludes(
      output,
      `${PROMPT}\r\nduct-client: the connection to ${server.name} was lost with 0 messages ` +
        `unconfirmed; reconnecting (waiting up to 0.2 s for a server)…\r\n${PROMPT}`,
    );
  },
});
