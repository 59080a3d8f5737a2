/**
 * scripts/smoke_binaries.sh, which the release's verify jobs and CI run against the compiled
 * executables, run here against stand-ins: scripts that run server.ts and client.ts with exactly
 * the permissions `deno compile` embeds for this target. So the smoke script itself (and the
 * embedded permission set, for every command it tries) is checked on every run, not only on
 * GitHub.
 */

import { permissionFlags, type Target, TARGETS } from "../scripts/targets.ts";
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";

const ROOT = new URL("../", import.meta.url);
const HOST: Target | undefined = Deno.build.os === "linux" && Deno.build.arch === "x86_64"
  ? "x86_64-unknown-linux-gnu"
  : undefined;

async function standIns(target: Target): Promise<string> {
  const dist = await Deno.makeTempDir({ prefix: "duct-smoke-" });
  const flags = permissionFlags(target).join(" ");
  for (const program of ["server", "client"]) {
    const path = `${dist}/duct-${program}-${target}`;
    const source = new URL(`${program}.ts`, ROOT).pathname;
    await Deno.writeTextFile(
      path,
      `#!/bin/sh\nexec "${Deno.execPath()}" run ${flags} "${source}" "$@"\n`,
    );
    await Deno.chmod(path, 0o755);
  }
  return dist;
}

Deno.test({
  name: "smoke_binaries.sh passes against stand-ins with the embedded permissions",
  ignore: HOST === undefined,
  async fn() {
    assert(TARGETS.includes(HOST!));
    const dist = await standIns(HOST!);
    try {
      const output = await new Deno.Command("bash", {
        args: [new URL("scripts/smoke_binaries.sh", ROOT).pathname, dist],
        // A runtime directory of its own: the script's --list probes every live socket there,
        // and in the shared one it would connect to the servers of tests running in parallel.
        env: { NO_COLOR: "1", XDG_RUNTIME_DIR: dist },
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assertEquals(output.code, 0, stderr);
      assertStringIncludes(new TextDecoder().decode(output.stdout), `smoke: ok (${HOST})`);
    } finally {
      await Deno.remove(dist, { recursive: true });
    }
  },
});

Deno.test({
  name: "smoke_binaries.sh fails, showing the server's log, when a program is broken",
  ignore: HOST === undefined,
  async fn() {
    const dist = await standIns(HOST!);
    try {
      // A client that answers --version but exits 1 for everything else.
      await Deno.writeTextFile(
        `${dist}/duct-client-${HOST}`,
        `#!/bin/sh\n[ "$1" = --version ] && exec "${Deno.execPath()}" run -A "${
          new URL("client.ts", ROOT).pathname
        }" --version\nexit 1\n`,
      );
      const output = await new Deno.Command("bash", {
        args: [new URL("scripts/smoke_binaries.sh", ROOT).pathname, dist],
        env: { NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assertEquals(output.code, 1, stderr);
      assertStringIncludes(stderr, "smoke: FAIL");
      assertStringIncludes(stderr, "--- server log ---");
    } finally {
      await Deno.remove(dist, { recursive: true });
    }
  },
});
