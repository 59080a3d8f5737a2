/**
 * Tests of `cli/style.ts`: colour on a terminal, none with `NO_COLOR` or off a terminal. Each case
 * runs in a child process, since `@std/fmt/colors` reads `NO_COLOR` once, at start.
 *
 * @module
 */

import { assertEquals } from "@std/assert";

const STYLE = new URL("../cli/style.ts", import.meta.url).href;

async function styled(terminal: boolean, noColor: string | undefined): Promise<string> {
  const code = `import { stylerFor } from ${JSON.stringify(STYLE)};
    const style = stylerFor({ isTerminal: () => ${terminal} });
    console.log(JSON.stringify([style("green", "ok"), style("bold", "b"), style("red", "x")]));`;
  const env = Deno.env.toObject();
  delete env.NO_COLOR;
  if (noColor !== undefined) env.NO_COLOR = noColor;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    env,
    clearEnv: true,
    stderr: "inherit",
  }).output();
  assertEquals(output.code, 0);
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test("style: ANSI colours on a terminal, plain text with NO_COLOR or off a terminal", async () => {
  assertEquals(
    await styled(true, undefined),
    JSON.stringify(["\x1b[32mok\x1b[39m", "\x1b[1mb\x1b[22m", "\x1b[31mx\x1b[39m"]),
  );
  const plain = JSON.stringify(["ok", "b", "x"]);
  assertEquals(await styled(true, "1"), plain);
  assertEquals(await styled(false, undefined), plain);
  // An empty NO_COLOR does not count (no-color.org).
  assertEquals(await styled(true, ""), await styled(true, undefined));
});
