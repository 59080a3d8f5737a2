/**
 * Tests of `client.ts` on long streams and at its edges: bounded memory over a million piped
 * lines, a stdout closed early, and the hint given when the replies stop.
 *
 * @module
 */

import { assertEquals, assertMatch } from "./_assert.ts";
import { assertPeakRatio, NOT_LINUX } from "./_process_stats.ts";
import { ACK } from "../server.ts";
import { CLIENT_SCRIPT, IS_WINDOWS } from "./_process.ts";
import { runClient, writeSeq } from "./_run.ts";
import { Server } from "./_server.ts";
import { uniqueName } from "./_endpoints.ts";
import { listen } from "../lib/mod.ts";

/**
 * Runs the client's `main` over `lines` piped lines (stdout discarded) under V8 `flags`, and
 * resolves with its exit status and peak resident memory (VmHWM, read by the process itself as
 * it exits, so that nothing after the peak is missed).
 */
async function peakOf(lines: number, args: string[], flags: string) {
  const report = await Deno.makeTempFile({ prefix: "duct-hwm-" });
  const code = `
    import { main } from ${JSON.stringify(CLIENT_SCRIPT)};
    const status = await main(Deno.args);
    const hwm = /^VmHWM:\\s+(\\d+) kB/m.exec(Deno.readTextFileSync("/proc/self/status"))[1];
    Deno.writeTextFileSync(${JSON.stringify(report)}, hwm);
    Deno.exit(status);
  `;
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", `--v8-flags=${flags}`, code, "--", ...args],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await writeSeq(child.stdin, lines);
    const { code: status, stderr } = await child.output();
    const peak = Number(await Deno.readTextFile(report).catch(() => "0")) * 1024;
    return { status, peak, stderr: new TextDecoder().decode(stderr) };
  } finally {
    await Deno.remove(report);
  }
}

Deno.test({
  name: "client: 1,000,000 piped lines under a 64 MiB heap cap; peak memory within 1.5× of 10,000",
  ignore: NOT_LINUX,
  async fn() {
    await using server = await Server.start([], { json: false, env: { NO_COLOR: "1" } });
    // The issue's cap and V8's own heap sizing, as a user runs it. V8 grows its young generation
    // with what survives each collection, so this fails as soon as the client keeps lines or
    // replies in the heap across collections, even when it drops them soon after.
    const flags = "--max-old-space-size=64";
    const measure = async (lines: number) => {
      const run = await peakOf(lines, ["--name", server.name], flags);
      assertEquals(run.status, 0, run.stderr);
      return run.peak;
    };
    await assertPeakRatio(measure, { small: 10_000, large: 1_000_000, ratio: 1.5 });
  },
});

Deno.test({
  name: "client: stdout closed early (| head -1): exit 141 quietly, as cat does",
  ignore: IS_WINDOWS,
  async fn() {
    await using server = await Server.start();
    const script = `seq 1 100000 | "$0" run -A "$1" --name "$2" 2>"$3" | head -1; ` +
      `echo "\${PIPESTATUS[1]}"`;
    const stderrFile = await Deno.makeTempFile({ prefix: "duct-epipe-" });
    try {
      const output = await new Deno.Command("bash", {
        args: ["-c", script, Deno.execPath(), CLIENT_SCRIPT, server.name, stderrFile],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const lines = new TextDecoder().decode(output.stdout).split("\n");
      assertEquals(lines.slice(0, 2), [ACK, "141"]);
      assertEquals(await Deno.readTextFile(stderrFile), "");
    } finally {
      await Deno.remove(stderrFile);
    }
  },
});

Deno.test("client: --no-reply against a server that answers anyway: answers drained, a clean end", async () => {
  // 100,000 acks are about 3.3 MB: far past the server's 1 MiB of unsent answers at which it stops
  // reading, so a client that never read them would wait on the server, and the server on it.
  // And a client that closed with answers unread would reset the connection: the server would
  // see an error, and the client a reply cut short. Both happened most runs: three runs here.
  await using server = await Server.start();
  const lines = Array.from({ length: 100_000 }, (_, i) => `m${i}\n`).join("");
  for (let run = 1; run <= 3; run++) {
    const output = await runClient(["--name", server.name, "--no-reply"], { input: lines });
    assertEquals(output.code, 0, output.stderr);
    assertEquals(output.stdout, "");
    await server.waitForCount("disconnected", run);
    assertEquals(server.count("message", run), 100_000);
    assertEquals(server.eventsOf("error"), []);
  }
});

Deno.test("client: the hint names the likely cause when no reply comes", async (t) => {
  await t.step("the client's own --max-frame refuses the server's ack", async () => {
    await using server = await Server.start();
    const output = await runClient(["--name", server.name, "--max-frame", "4", "hi"]);
    assertEquals(output.code, 3);
    assertMatch(
      output.stderr,
      /^duct-client: error: a reply was refused: frame of 29 bytes .*: 1 of 1 messages were not confirmed \(the server's reply is larger than this client's --max-frame of 4 bytes\)\n$/,
    );
  });
  await t.step("a server that never answers (--reply none)", async () => {
    await using server = await Server.start(["--reply", "none"]);
    const output = await runClient(["--name", server.name, "hi"]);
    assertEquals(output.code, 3);
    assertMatch(
      output.stderr,
      /\(the server answered none: if it never answers \(--reply none\), use --no-reply;/,
    );
  });
  await t.step("a length client against a line server: the header looks like text", async () => {
    await using server = await Server.start(["--framing", "line"]);
    const output = await runClient(["--name", server.name, "hello"]);
    assertEquals(output.code, 3);
    assertMatch(
      output.stderr,
      /\(its length header reads "Mess", which looks like text: does the server use another --framing\? this client uses length\)/,
    );
  });
});

Deno.test("client: --no-reply waits for a server that never closes only up to --timeout, then says so", async () => {
  // A server that reads everything and keeps the connection open.
  const name = uniqueName("holds");
  await using listener = await listen({ name });
  const held = (async () => {
    for await (const conn of listener) {
      while ((await conn.receive().catch(() => null)) !== null);
      return conn;
    }
  })();
  const output = await runClient(["--name", name, "--no-reply", "--timeout", "0.5"], {
    input: "a\nb\n",
  });
  assertEquals(output.code, 0, output.stderr);
  assertEquals(
    output.stderr,
    "duct-client: the server did not close the connection within --timeout (0.5 seconds) " +
      "after the end of input; closing it\n",
  );
  (await held)?.abort();
});
