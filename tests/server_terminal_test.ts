/**
 * The server on a terminal (through `_pty.py`; Unix only): Ctrl+C's echoed `^C` is not followed
 * on the same line by what the server prints while it stops (issue 18).
 */

import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { removeQuietly, tempDir } from "./_endpoints.ts";
import { IS_WINDOWS, Proc, SERVER_SCRIPT } from "./_process.ts";

const PTY_SCRIPT = new URL("./_pty.py", import.meta.url).pathname;

Deno.test({
  name: "server on a terminal: after Ctrl+C, the next line starts on a line of its own",
  ignore: IS_WINDOWS,
  async fn() {
    const dir = await tempDir("server-pty");
    const path = `${dir}/s.sock`;
    try {
      const steps = [
        ["expect", "listening on"],
        ["sync", "listening"],
        ["expect", "client 1 connected"],
        ["send", "\u0003"],
      ];
      await using pty = new Proc(
        [PTY_SCRIPT, JSON.stringify(steps), Deno.execPath(), "run", "-A", SERVER_SCRIPT]
          .concat(["--name", path]),
        { command: "python3", stdin: "piped", env: { NO_COLOR: "1" } },
      );
      await pty.waitForLine((line) => line === "listening", "the server to listen");
      // A client that stays connected: the server prints its disconnection while it stops.
      const client = await Deno.connect({ transport: "unix", path });
      await pty.write("\n");
      const result = await pty.waitForEvent((event) => "status" in event, "the server's exit");
      client.close();
      const { output, status } = result as { output: string; status: number };
      assertEquals(status, 0, output);
      assertStringIncludes(output, "client 1 disconnected");
      // The terminal echoes ^C where the cursor is; the server's next line must not follow it.
      assert(!/\^C[^\r\n]/.test(output), JSON.stringify(output));
      assert(/\r\nclient 1 disconnected\r\n/.test(output), JSON.stringify(output));
    } finally {
      await removeQuietly(dir);
    }
  },
});
