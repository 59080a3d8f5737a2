/**
 * The permissions the compiled executables embed are enough, and nothing prompts: the server
 * and client run from source under exactly those flags (`deno run --no-prompt …`) and complete
 * the full scenario. This runs everywhere, also where no executable can be compiled.
 */

import { hostTarget, permissionFlags } from "../scripts/targets.ts";
import { exerciseDuct } from "./_exchange.ts";

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
