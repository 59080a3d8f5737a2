/**
 * docs/rpc.md's runnable example (its first `ts` block), run as printed but for its endpoint
 * name, so that the documentation cannot drift from the code.
 *
 * @module
 */

import { assert } from "./_assert.ts";
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
