/**
 * docs/rpc.md's runnable example (its first `ts` block), and the README's request/reply example
 * and `--call` line, run as printed but for their endpoint names, so that the documentation cannot
 * drift from the code.
 *
 * @module
 */

import { assert, assertEquals } from "./_assert.ts";
import { listen, serve } from "../lib/mod.ts";
import { uniqueName } from "./_endpoints.ts";
import { fromFileUrl } from "@std/path";

const DOC = new URL("../docs/rpc.md", import.meta.url);

Deno.test("docs/rpc.md: the API example runs and its assertions hold", async () => {
  const markdown = (await Deno.readTextFile(DOC)).replaceAll("\r\n", "\n");
  const start = markdown.indexOf("```ts\n");
  assert(start >= 0, "docs/rpc.md has a runnable ts example");
  const code = markdown.slice(start + 6, markdown.indexOf("```", start + 6))
    .replace("../lib/mod.ts", new URL("../lib/mod.ts", import.meta.url).href)
    .replace('"rpcDocs"', JSON.stringify(uniqueName("rpc-docs")));
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    const output = await new Deno.Command(Deno.execPath(), {
      // The project's import map: the example imports @std/assert as a reader's project would.
      args: ["run", "-A", "--config", fromFileUrl(new URL("../deno.json", import.meta.url)), file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(output.success, new TextDecoder().decode(output.stderr));
  } finally {
    await Deno.remove(file);
  }
});

const README = new URL("../README.md", import.meta.url);

Deno.test("README: the request/reply example prints [ 3, 7 ], and its --call line prints 3", async () => {
  const markdown = (await Deno.readTextFile(README)).replaceAll("\r\n", "\n");
  const section = markdown.slice(markdown.indexOf("## Request/reply, in one example"));
  const start = section.indexOf("```ts\n");
  assert(start >= 0, "the README's request/reply section has a ts example");
  const name = uniqueName("readme-calc");
  const code = section.slice(start + 6, section.indexOf("```", start + 6))
    .replace("./lib/mod.ts", new URL("../lib/mod.ts", import.meta.url).href)
    .replaceAll('"calc"', JSON.stringify(name));
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(output.success, new TextDecoder().decode(output.stderr));
    assertEquals(new TextDecoder().decode(output.stdout), "[ 3, 7 ]\n");
  } finally {
    await Deno.remove(file);
  }

  // The --call line, against a server with the example's handler.
  const line = /`deno task client (--name calc [^`]*)`/.exec(section)?.[1];
  assert(line !== undefined, "the README's --call line");
  const args = line.replace("--name calc", `--name ${name}`).match(/'[^']*'|\S+/g)!
    .map((arg) => arg.replace(/^'(.*)'$/, "$1"));
  await using listener = await listen({ name, framing: "content-length" });
  const served = serve(listener, {
    add: (params) => (params as number[]).reduce((a, b) => a + b),
  });
  const client = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fromFileUrl(new URL("../client.ts", import.meta.url)), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(client.stdout);
  assertEquals([client.code, stdout], [0, "3\n"], new TextDecoder().decode(client.stderr));
  listener.close();
  await served;
});
