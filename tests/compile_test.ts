/**
 * Compiles the host executables with `deno task compile` and runs the full scenario with them:
 * `--version` of both, a server/client exchange, exit codes, a graceful stop.
 *
 * With `DUCT_DIST_DIR` set, the executables already built there are tested instead (CI builds
 * them once per runner, smoke-tests and uploads them, and this test runs the same files).
 *
 * `deno compile` needs the `denort` runtime of this Deno version. The test runs when it can be
 * had — `DENORT_BIN` is set, it is already cached in `$DENO_DIR/dl`, or the run may download it
 * (GitHub Actions, or `DUCT_COMPILE_ONLINE=1`) — and is otherwise ignored with one line saying why.
 */

import { join, resolve } from "@std/path";
import { binaryName, hostTarget, type Target } from "../scripts/targets.ts";
import { assertEquals } from "./_assert.ts";
import { exerciseDuct } from "./_exchange.ts";

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
  // No probe of the download here: a test run reaches out to no host unless told it may.
  if (Deno.env.get("GITHUB_ACTIONS") === "true") return { ok: true, source: "download (CI)" };
  if (Deno.env.get("DUCT_COMPILE_ONLINE") === "1") {
    return { ok: true, source: "download (DUCT_COMPILE_ONLINE=1)" };
  }
  return {
    ok: false,
    reason: "this is not GitHub Actions and DUCT_COMPILE_ONLINE=1 is not set, so no download " +
      "is tried",
  };
}

const target = hostTarget();
const distDir = Deno.env.get("DUCT_DIST_DIR");
const prebuilt = distDir ? resolve(distDir) : undefined;
const availability: Availability = prebuilt === undefined
  ? await denortAvailability(target)
  : target === undefined
  ? { ok: false, reason: `duct ships no executable for ${Deno.build.target}` }
  : { ok: true, source: `DUCT_DIST_DIR=${prebuilt}` };
if (!availability.ok) {
  console.log(
    `compile_test: SKIPPED: deno compile needs denort ${Deno.version.deno}: DENORT_BIN is ` +
      `unset, it is not cached, and ${availability.reason}; set DENORT_BIN (or ` +
      `DUCT_COMPILE_ONLINE=1 where the runtime can be downloaded) to run this test`,
  );
}

Deno.test({
  name: "compiled executables: --version, an exchange, exit codes, a graceful stop",
  ignore: !availability.ok,
  async fn() {
    const outDir = prebuilt ?? await Deno.makeTempDir({ prefix: "duct-dist-" });
    try {
      if (prebuilt === undefined) await compileInto(outDir);
      const binary = (program: "duct-server" | "duct-client") => ({
        command: join(outDir, binaryName(program, target!)),
        prefix: [],
      });
      await exerciseDuct(binary("duct-server"), binary("duct-client"));
    } finally {
      if (prebuilt === undefined) await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});

async function compileInto(outDir: string): Promise<void> {
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile", "--target", target!, "--out-dir", outDir],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(build.stderr);
  assertEquals(build.code, 0, `deno task compile failed:\n${log}`);
}
