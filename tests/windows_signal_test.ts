/**
 * Windows only: Ctrl+C (and, on native Windows only, Ctrl+Break) stops `server.ts` the way SIGTERM
 * does on Unix (tests/server_test.ts):
 * it stops accepting, prints and acks every message it has already taken in, closes its clients,
 * exits 0, and leaves the pipe name free for the next server.
 *
 * Ctrl+C is a console event: it reaches every process attached to the console it is generated
 * in, and the test runner has none under Wine (nor should it share one with the server on real
 * Windows). So the server runs under the C peer `tests/peers/console_ctrl.c`, which gives it a
 * console of its own and, when asked through its stdin, generates `CTRL_C_EVENT` there. Run under
 * Wine with `deno task test:wine`, which builds the peer with mingw.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { ACK } from "../server.ts";
import { uniqueName } from "./_endpoints.ts";
import { CLIENT_SCRIPT, IS_WINDOWS, Proc, SERVER_SCRIPT, UNDER_WINE } from "./_process.ts";
import { feedNumberedLines, jsonLines, runClient } from "./_run.ts";
import { Server } from "./_server.ts";
import { peer } from "./_peers.ts";

/** Messages the server must have taken in before Ctrl+C, so the drain has work in flight. */
const BEFORE_CTRL_C = 500;

/** `"WORD"` for a Windows command line (the words here have no quotes or backslash runs). */
function quote(word: string): string {
  return `"${word}"`;
}

if (UNDER_WINE) {
  console.log(
    "windows_signal_test: not provable under Wine, run by the windows-latest job: Ctrl+Break " +
      "(Wine does not deliver it to a console's handlers) and Ctrl+C to a server started in a " +
      "new process group (not delivered under Wine even after SetConsoleCtrlHandler(NULL, FALSE))",
  );
}

Deno.test({
  name: "windows: Ctrl+C drains: exit 0, every printed message acked, the pipe name free again",
  ignore: !IS_WINDOWS,
  fn: () => stopsOn("\n", "Ctrl+C"),
});

Deno.test({
  name: "windows (native only): Ctrl+Break drains the same way",
  ignore: !IS_WINDOWS || UNDER_WINE,
  fn: () => stopsOn("b", "Ctrl+Break"),
});

Deno.test({
  name: "windows (native only): Ctrl+C stops a server started in a new process group " +
    "(which inherits 'ignore Ctrl+C' until the server turns it off)",
  ignore: !IS_WINDOWS || UNDER_WINE,
  fn: () => stopsOn("\n", "Ctrl+C", ["--new-group"]),
});

/** Runs the server under the console helper, sends `request` to it, checks the drain. */
async function stopsOn(request: string, event: string, helperArgs: string[] = []): Promise<void> {
  {
    const helper = await peer("console_ctrl");
    const name = uniqueName("ctrlc");
    const serverCommand = [Deno.execPath(), "run", "-A", SERVER_SCRIPT, "--name", name, "--json"]
      .map(quote).join(" ");
    // The server's stdout and stderr are the helper's; one byte on the helper's stdin is Ctrl+C.
    await using server = new Proc([...helperArgs, serverCommand], {
      command: helper,
      stdin: "piped",
    });
    await server.waitForEvent((e) => e.event === "listening", "listening");
    const messages = () => server.events.filter((e) => e.event === "message");

    await using client = Proc.script(CLIENT_SCRIPT, ["--name", name, "--json"], {
      stdin: "piped",
    });
    // Feed the client until the server is gone, so it is sending when Ctrl+C comes.
    const feeder = feedNumberedLines(client);
    try {
      await server.until(
        () => messages().length >= BEFORE_CTRL_C,
        `${BEFORE_CTRL_C} "message" events`,
      );
      await server.write(request);
      await server.waitForExit(`the server to exit after ${event}`);
      const serverOutput = await server.output();
      await feeder.stop();
      const clientOutput = await client.output();

      // The server wrote nothing on stderr; the helper's line says it saw the server exit.
      assertEquals(serverOutput.code, 0, serverOutput.stderr);
      assertEquals(
        serverOutput.stderr.replaceAll("\r", ""),
        `console_ctrl: the program exited with status 0 after ${event}\n`,
      );
      const printed = messages();
      assertEquals(printed.map((e) => e.text), printed.map((_, i) => `m${i}`));
      const replies = jsonLines(clientOutput);
      assertEquals(replies.length, printed.length, "every printed message was acked");
      assert(replies.every((r) => r.text === ACK));
      assertEquals(server.events.filter((e) => e.event === "disconnected").length, 1);

      assert(clientOutput.code === 0 || clientOutput.code === 3, clientOutput.stderr);
      if (clientOutput.code === 3) {
        // A write that failed also leaves the rest of the input unsent, and says so.
        const match =
          /: (\d+) of (\d+) messages were not confirmed(?:; the rest of the input was not sent)?\n$/
            .exec(clientOutput.stderr);
        assert(match !== null, clientOutput.stderr);
        const [unconfirmed, sent] = [Number(match[1]), Number(match[2])];
        assertEquals(sent - unconfirmed, replies.length);
        assertMatch(clientOutput.stderr, /^duct-client: error: [^\n]+\n$/);
      }
    } finally {
      // On failure the client may still run and stop reading: end it so the feeder returns.
      client.kill();
      await feeder.stop();
    }

    // Nothing holds the name: a new server listens on it and serves.
    await using next = await Server.start([], { name });
    const after = await runClient(["--name", name, `after ${event}`]);
    assertEquals(after.code, 0, after.stderr);
    await next.waitForEvent((e) => e.text === `after ${event}`, "the message");
  }
}
