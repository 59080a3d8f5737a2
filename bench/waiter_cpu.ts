/**
 * The completion-port waiter's CPU cost (Windows; run under Wine with
 * `bash scripts/test_wine.sh --exec run -A 'Z:\PATH\bench\waiter_cpu.ts'`): a duct server that
 * acks every message, measured with `process.cpuUsage()` over a few seconds, idle and then with a
 * client sending one 64-byte message every 0.5 ms (paced by the clock, in a process of its own).
 * Prints one line per case: the server's CPU time as a share of one core.
 *
 * Usage: `deno run -A bench/waiter_cpu.ts [SECONDS]` (default 5 per case).
 *
 * @module
 */

import process from "node:process";
import { connect, listen } from "../lib/mod.ts";

const INTERVAL_MS = 0.5;
const [role, name, seconds] = Deno.args;

if (role === "serve") {
  // The server: acks every message for `seconds`, then prints its CPU time in ms.
  const listener = await listen({ name });
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        try {
          while ((await conn.receive()) !== null) await conn.send("ok");
        } catch { /* the client left */ }
        conn.abort();
      })();
    }
  })();
  console.log("ready");
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
  const used = process.cpuUsage(before);
  console.log(((used.user + used.system) / 1000).toFixed(1));
  listener.close();
  await serving;
  Deno.exit(0);
} else if (role === "send") {
  // The client: one message every INTERVAL_MS until `seconds` have passed.
  const conn = await connect({ name, timeout: 10_000 });
  const replies = (async () => {
    while (await conn.receive() !== null);
  })();
  const end = performance.now() + Number(seconds) * 1000;
  let sent = 0;
  for (let next = performance.now(); next < end; next += INTERVAL_MS) {
    while (performance.now() < next) if (performance.now() < next - 0.2) await Promise.resolve();
    conn.send(new Uint8Array(64)).catch(() => {});
    sent++;
    if (sent % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await conn.closeWrite().catch(() => {});
  await replies.catch(() => {});
  console.log(sent);
  Deno.exit(0);
} else {
  const duration = Number(role ?? 5);
  for (const traffic of [false, true]) {
    const serverName = `duct-waiter-cpu-${Deno.pid}-${traffic ? "busy" : "idle"}`;
    const server = spawn(["serve", serverName, String(duration)]);
    const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("ready")) text += (await lines.read()).value ?? "";
    // The client stops a little before the server's measurement ends.
    const client = traffic
      ? spawn(["send", serverName, String(duration * 0.9)]).output()
      : undefined;
    while (!/ready\s+[\d.]+\s/.test(text)) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    const cpuMs = Number(text.split(/\s+/)[1]);
    const sent = client ? new TextDecoder().decode((await client).stdout).trim() : "0";
    await server.status;
    console.log(
      `${traffic ? `a message every ${INTERVAL_MS} ms (${sent} sent)` : "idle"}: server CPU ` +
        `${cpuMs.toFixed(0)} ms in ${duration} s = ${
          (cpuMs / (duration * 10)).toFixed(1)
        } % of a core`,
    );
  }
}

function spawn(args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename ?? new URL(import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}
