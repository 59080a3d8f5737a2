/**
 * What the README shows, run as a user would: the quick start through `deno task` (the tasks must
 * carry every permission the programs need: a missing `--allow-net` once broke `deno task server`
 * while `-A` tests passed), and the library example, verbatim but for its endpoint name.
 */

import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { ACK, IS_WINDOWS, uniqueName } from "./_cli.ts";

const ROOT = new URL("..", import.meta.url);

function task(args: string[], stdin: "null" | "piped" = "null") {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: ROOT,
    stdin,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

Deno.test({
  name: "readme: `deno task server` and `deno task client` exchange a message as the README shows",
  ignore: IS_WINDOWS, // stopping `deno task` relies on SIGTERM being forwarded
  async fn() {
    const name = uniqueName("task");
    const server = task(["server", "--name", name, "--json"]);
    try {
      const listening = JSON.parse(await firstLine(server.stdout));
      assertEquals(listening.event, "listening");
      const client = await task(["client", "--name", name, "hello"]).output();
      assertEquals(new TextDecoder().decode(client.stderr), "");
      assertEquals(client.code, 0);
      assertStringIncludes(new TextDecoder().decode(client.stdout), `server: ${ACK}`);
    } finally {
      server.kill("SIGTERM");
      const status = await server.status;
      await server.stderr.cancel();
      assertEquals(status.code, 0, "the server stops cleanly on SIGTERM");
    }
  },
});

Deno.test("readme: the library example runs as printed and prints the echoed frame", async () => {
  // A Windows checkout without .gitattributes has CRLF: the search below must not depend on it.
  const readme = (await Deno.readTextFile(new URL("README.md", ROOT))).replaceAll("\r\n", "\n");
  const start = readme.indexOf('```ts\nimport { connect, listen } from "./lib/mod.ts";');
  assert(start >= 0, "the README's library example is where this test expects it");
  const code = readme.slice(start + "```ts\n".length, readme.indexOf("```", start + 5))
    .replace("./lib/mod.ts", new URL("lib/mod.ts", ROOT).href)
    .replaceAll('"testPipe"', JSON.stringify(uniqueName("readme")));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assertEquals(new TextDecoder().decode(output.stderr), "");
  assertEquals(new TextDecoder().decode(output.stdout), "hello\n");
  assertEquals(output.code, 0);
});
