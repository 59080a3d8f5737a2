/**
 * docs/library.md's examples that run (every page's examples are linted and checked by
 * docs_examples_test.ts): the reliable-sending example runs as printed (issue 18): with no server
 * it reports the timeout instead of dying of an uncaught `ConnectTimeoutError`, and against a
 * server it sends its lines.
 */

import { assertEquals, assertStringIncludes } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { Server } from "./_server.ts";
import { listen } from "../lib/mod.ts";

const ROOT = new URL("..", import.meta.url);
const LIB = new URL("lib/mod.ts", ROOT).href;

/** The `ts` blocks of a Markdown file of the repository, imports pointed at `lib/mod.ts`. */
async function examples(file: string): Promise<string[]> {
  const text = (await Deno.readTextFile(new URL(file, ROOT))).replaceAll("\r\n", "\n");
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map(([, code]) =>
    code.replaceAll('"./lib/mod.ts"', JSON.stringify(LIB)).replaceAll(
      '"../lib/mod.ts"',
      JSON.stringify(LIB),
    )
  );
}

async function deno(args: string[]): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, out: decoder.decode(output.stdout) + decoder.decode(output.stderr) };
}

async function withFiles<T>(codes: string[], fn: (paths: string[]) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "duct-examples-" });
  try {
    const paths = await Promise.all(codes.map(async (code, index) => {
      const path = `${dir}/example_${index}.ts`;
      await Deno.writeTextFile(path, code);
      return path;
    }));
    return await fn(paths);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** docs/library.md's reliable-sending example, with its name and timeout replaced. */
async function reliableExample(name: string, timeout: number): Promise<string> {
  const code = (await examples("docs/library.md")).find((code) => code.includes("ReliableSender("));
  assertEquals(code === undefined, false, "docs/library.md has a ReliableSender example");
  return code!.replace('"collector"', JSON.stringify(name)).replace("30_000", String(timeout));
}

Deno.test("examples: the reliable-sending example without a server reports it, no uncaught error", async () => {
  const code = await reliableExample(uniqueName("nobody"), 200);
  await withFiles([code], async ([path]) => {
    const run = await deno(["run", "-A", path]);
    assertEquals(run.code, 0, run.out);
    assertStringIncludes(run.out, "no server is listening on");
  });
});

Deno.test("examples: the reliable-sending example against a server sends its three lines", async () => {
  await using server = await Server.start();
  const code = await reliableExample(server.name, 5000);
  await withFiles([code], async ([path]) => {
    const run = await deno(["run", "-A", path]);
    assertEquals(run.code, 0, run.out);
    assertEquals(run.out.match(/bytes confirmed/g)?.length, 3, run.out);
  });
  await server.waitForCount("message", 3);
  assertEquals(server.eventsOf("message").map((event) => event.text), ["one", "two", "three"]);
});

Deno.test("examples: docs/library.md's read-while-you-send example completes against an echo server", async () => {
  const name = uniqueName("echo");
  const code = (await examples("docs/library.md")).find((code) => code.includes("COUNT ="));
  assertEquals(code === undefined, false, "docs/library.md has the read-while-you-send example");
  await using listener = await listen({ name });
  const serving = (async () => {
    const conn = await listener.accept();
    for (let message; (message = await conn!.receive()) !== null;) await conn!.send(message);
    await conn!.close();
  })();
  await withFiles([code!.replaceAll('"testPipe"', JSON.stringify(name))], async ([path]) => {
    const run = await deno(["run", "-A", path]);
    assertEquals(run.code, 0, run.out);
    assertEquals(run.out, "100000 replies\n");
  });
  await serving;
});

Deno.test("examples: Deno drops trailing \\r from command-line arguments, as docs/protocol.md says", async () => {
  const run = await deno(["eval", "console.log(JSON.stringify(Deno.args))", "--", "cr\r", "a\rb"]);
  assertEquals(run.out, '["cr","a\\rb"]\n');
});
