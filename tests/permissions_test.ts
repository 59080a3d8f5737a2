/**
 * The permissions the compiled executables embed are enough, and nothing prompts: the server
 * and client run from source under exactly those flags (`deno run --no-prompt …`) and complete
 * the full scenario. This runs everywhere, also where no executable can be compiled.
 */

import { hostTarget, permissionFlags } from "../scripts/targets.ts";
import { exerciseDuct } from "./_exchange.ts";
import { assertEquals, assertStringIncludes } from "./_assert.ts";

const target = hostTarget();

Deno.test({
  name: "the embedded permissions suffice for --version, an exchange and a graceful stop",
  ignore: target === undefined,
  async fn() {
    const flags = permissionFlags(target!);
    const source = (entry: string) => ({
      command: Deno.execPath(),
      prefix: ["run", ...flags, new URL(`../${entry}`, import.meta.url).href],
    });
    await exerciseDuct(source("server.ts"), source("client.ts"));
  },
});

Deno.test({
  name: "under the embedded permissions, a path out of their reach is duct's own one-line error",
  ignore: target === undefined || Deno.build.os === "windows",
  async fn() {
    const flags = permissionFlags(target!);
    const run = async (entry: string, args: string[]) => {
      const script = new URL(`../${entry}`, import.meta.url).href;
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...flags, script, ...args],
        stdin: "null",
        env: { NO_COLOR: "1" },
      }).output();
      return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
    };
    for (
      const [path, shown] of [["/no/such/dir/x.sock", "/no/such/dir"], ["/proc/x.sock", "/proc"]]
    ) {
      const server = await run("server.ts", ["--name", path]);
      const client = await run("client.ts", ["--name", path, "--timeout", "0", "hi"]);
      for (const [program, result] of [["duct-server", server], ["duct-client", client]] as const) {
        assertEquals(result.code, 1, result.stderr);
        assertStringIncludes(result.stderr, `${program}: error: cannot use ${shown}`);
        assertStringIncludes(result.stderr, "it is outside the directories this duct may use");
        // Deno's advice is for whoever runs `deno run`, not for a user of an installed command.
        assertEquals(/--allow-|run again/.test(result.stderr), false, result.stderr);
        assertEquals(result.stderr.split("\n").length, 2, result.stderr);
      }
    }
  },
});
