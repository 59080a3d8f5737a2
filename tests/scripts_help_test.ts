/**
 * Every script a developer or CI runs answers `--help` with its usage and exit status 0, without
 * doing its work (no build, no Wine root, no network).
 */

import { assertEquals, assertStringIncludes } from "./_assert.ts";
import { IS_WINDOWS } from "./_process.ts";

const decoder = new TextDecoder();
const ROOT = new URL("..", import.meta.url);

async function help(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, cwd: ROOT, stdin: "null" }).output();
  assertEquals(output.code, 0, decoder.decode(output.stderr));
  return decoder.decode(output.stdout);
}

for (
  const [script, expected] of [
    ["scripts/smoke_binaries.sh", "Usage: bash scripts/smoke_binaries.sh [DIST_DIR] [VERSION]"],
    ["scripts/test_wine.sh", "bash scripts/test_wine.sh --exec run -A scratch.ts"],
    ["scripts/wine_env.sh", "Prints the root's path on stdout"],
  ]
) {
  Deno.test({
    name: `${script} --help prints its usage and does nothing else`,
    ignore: IS_WINDOWS,
    async fn() {
      assertStringIncludes(await help("bash", [script, "--help"]), expected);
    },
  });
}

for (
  const [script, expected] of [
    ["scripts/validate_workflows.ts", "Usage: deno task validate:workflows"],
    ["scripts/compile.ts", "Usage: deno task compile [options]"],
    ["bench/main.ts", "Usage: deno task bench"],
  ]
) {
  Deno.test(`${script} --help prints its usage and does nothing else`, async () => {
    const text = await help(Deno.execPath(), ["run", "-A", "--no-lock", script, "--help"]);
    assertStringIncludes(text, expected);
  });
}
