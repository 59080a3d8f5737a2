/**
 * Compiles the host executables with `deno task compile` and runs the full scenario with them:
 * `--version` of both, a server/client exchange, exit codes, a graceful stop.
 *
 * `deno compile` needs the `denort` runtime of this Deno version. The test runs when it can be
 * had — `DENORT_BIN` is set, it is already cached in `$DENO_DIR/dl`, or its download URL answers
 * within a few seconds — and is otherwise ignored with one line saying why.
 */

import { join } from "node:path";
import { binaryName, hostTarget, type Target } from "../scripts/targets.ts";
import { assertEquals } from "./_assert.ts";
import { exerciseDuct } from "./_exchange.ts";

/** How long the download probe may take before the runtime counts as unreachable. */
const PROBE_TIMEOUT_MS = 3000;
const ROOT = new URL("..", import.meta.url);

/** Where the runtime comes from, or why it cannot be had. */
type Availability = { ok: true; source: string } | { ok: false; reason: string };

async function denoDir(): Promise<string | undefined> {
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return fromEnv;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return code === 0 ? JSON.parse(new TextDecoder().decode(stdout)).denoDir : undefined;
}

async function denortAvailability(target: Target | undefined): Promise<Availability> {
  const version = Deno.version.deno;
  if (target === undefined) {
    return { ok: false, reason: `duct ships no executable for ${Deno.build.target}` };
  }
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) return { ok: true, source: `DENORT_BIN=${denort}` };
  // deno compile keeps each runtime it downloaded here and then needs no network.
  const dir = await denoDir();
  const cached = dir && `${dir}/dl/release/v${version}/denort-${target}.zip`;
  if (cached && await Deno.stat(cached).then(() => true, () => false)) {
    return { ok: true, source: cached };
  }
  const url = `https://dl.deno.land/release/v${version}/denort-${target}.zip`;
  try {
    const response = await fetch(url, {
      method: "HEAD",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.ok) return { ok: true, source: url };
    return { ok: false, reason: `${url} answered ${response.status}` };
  } catch (error) {
    const why = error instanceof DOMException && error.name === "TimeoutError"
      ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s`
      : describe(error);
    return { ok: false, reason: `${url} is unreachable (${why})` };
  }
}

// "fetch failed" alone says nothing; its cause says "dns error", "connection refused", ….
function describe(error: unknown): string {
  const message = (error as Error).message?.split("\n")[0] ?? String(error);
  const cause = (error as Error).cause;
  if (!(cause instanceof Error)) return message;
  return cause.message.split("\n")[0].replace(/^error sending request for url \([^)]*\): /, "");
}

const target = hostTarget();
const availability = await denortAvailability(target);
if (!availability.ok) {
  console.log(
    `compile_test: SKIPPED: deno compile needs denort ${Deno.version.deno}: DENORT_BIN is ` +
      `unset, it is not cached, and ${availability.reason}; set DENORT_BIN to run this test`,
  );
}

Deno.test({
  name: "compiled executables: --version, an exchange, exit codes, a graceful stop",
  ignore: !availability.ok,
  async fn() {
    const outDir = await Deno.makeTempDir({ prefix: "duct-dist-" });
    try {
      const build = await new Deno.Command(Deno.execPath(), {
        args: ["task", "compile", "--target", target!, "--out-dir", outDir],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(build.stderr);
      assertEquals(build.code, 0, `deno task compile failed:\n${log}`);
      const binary = (program: "duct-server" | "duct-client") => ({
        command: join(outDir, binaryName(program, target!)),
        prefix: [],
      });
      await exerciseDuct(binary("duct-server"), binary("duct-client"));
    } finally {
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});
