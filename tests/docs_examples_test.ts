/**
 * Every page's examples stay true (issue 20): each `ts` block of the README and of every
 * `docs/*.md` passes `deno lint` and `deno check`, and each `sh` block parses (`bash -n`), names
 * only existing tasks and repository files, and gives the programs only options their `--help`
 * lists. A block marked ` ignore` after its language (`ts ignore`) is shown, not checked: it
 * needs a server that is not there or would not end. `console`, `json` and `text` blocks are
 * transcripts, not programs. The examples that run are run by their own tests: the quick start
 * and the README's library example (readme_test.ts), docs/library.md's (readme_library_test.ts,
 * reconnect_test.ts), docs/rpc.md's (docs_rpc_test.ts) and docs/protocol.md's Python client
 * (below).
 *
 * @module
 */

import { assert, assertEquals } from "./_assert.ts";
import { IS_WINDOWS } from "./_process.ts";
import { Server } from "./_server.ts";

const ROOT = new URL("..", import.meta.url);
const LIB = new URL("lib/mod.ts", ROOT).href;

/** README.md and every page of docs/, as paths relative to the repository. */
async function pages(): Promise<string[]> {
  const docs: string[] = [];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) docs.push(`docs/${entry.name}`);
  }
  return ["README.md", ...docs.sort()];
}

/** The fenced blocks of `language` in a page, unless marked ` ignore`. */
async function blocks(page: string, language: string): Promise<string[]> {
  const text = (await Deno.readTextFile(new URL(page, ROOT))).replaceAll("\r\n", "\n");
  return [...text.matchAll(/^```(\w+)( ignore)?\n([\s\S]*?)^```$/gm)]
    .filter(([, lang, ignore]) => lang === language && ignore === undefined)
    .map(([, , , code]) => code);
}

async function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(command, { args, stdin: "null", env: { NO_COLOR: "1" } })
    .output();
  const decoder = new TextDecoder();
  return { code: output.code, out: decoder.decode(output.stdout) + decoder.decode(output.stderr) };
}

Deno.test("docs examples: every ts block of every page passes deno lint and deno check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duct-examples-" });
  try {
    const paths: string[] = [];
    for (const page of await pages()) {
      for (const code of await blocks(page, "ts")) {
        const path = `${dir}/${page.replaceAll(/[/.]/g, "_")}_${paths.length}.ts`;
        await Deno.writeTextFile(
          path,
          code.replaceAll('"./lib/mod.ts"', JSON.stringify(LIB))
            .replaceAll('"../lib/mod.ts"', JSON.stringify(LIB)),
        );
        paths.push(path);
      }
    }
    assert(paths.length >= 9, `only ${paths.length} ts examples found: did the pages move?`);
    const lint = await run(Deno.execPath(), ["lint", ...paths]);
    assertEquals(lint.code, 0, lint.out);
    const check = await run(Deno.execPath(), ["check", "--quiet", ...paths]);
    assertEquals(check.code, 0, check.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The long options a program's `--help` lists, and its short ones. */
async function helpOptions(program: string): Promise<Set<string>> {
  const help = await run(Deno.execPath(), ["run", "-A", new URL(program, ROOT).pathname, "--help"]);
  assertEquals(help.code, 0, help.out);
  return new Set(help.out.match(/(?<![\w-])--?[a-zA-Z][\w-]*/g));
}

Deno.test({
  name: "docs examples: every sh block parses, and names existing tasks, files and options",
  ignore: IS_WINDOWS, // bash -n; the blocks are the same text on every OS
  async fn() {
    const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
    const tasks = new Set(Object.keys(config.tasks));
    const options = {
      server: await helpOptions("server.ts"),
      client: await helpOptions("client.ts"),
    };
    let count = 0;
    for (const page of await pages()) {
      for (const code of await blocks(page, "sh")) {
        count++;
        const where = `${page}:\n${code}`;
        const syntax = await run("bash", ["-n", "-c", code]);
        assertEquals(syntax.code, 0, `${where}\n${syntax.out}`);
        const text = code.replaceAll(/\\\n/g, " ").split("\n").map((line) =>
          line.replace(/\s#.*$/, "")
        ).join("\n");
        for (const [, task] of text.matchAll(/\bdeno task (?:--quiet )?([\w:]+)/g)) {
          assert(tasks.has(task), `${where}\nno task "${task}" in deno.json`);
        }
        for (const [file] of text.matchAll(/(?<![\w/.-])(?:tests|scripts|bench)\/[\w/.-]+\.\w+/g)) {
          const exists = await Deno.stat(new URL(file, ROOT)).then(() => true, () => false);
          assert(exists, `${where}\n${file} does not exist`);
        }
        for (const segment of text.split(/\||&&|;|\n/)) {
          const program =
            /^\s*(?:deno task (server|client)|(?:\.\/)?duct-(server|client)\S*)(\s.*)?$/
              .exec(segment);
          if (program === null) continue;
          const known = options[(program[1] ?? program[2]) as "server" | "client"];
          for (const [option] of (program[3] ?? "").matchAll(/(?<=\s)--?[a-zA-Z][\w-]*/g)) {
            assert(known.has(option), `${where}\n${option} is not in ${program[0]}'s --help`);
          }
        }
      }
    }
    assert(count >= 8, `only ${count} sh examples found: did the pages move?`);
  },
});

Deno.test({
  name: "docs examples: docs/protocol.md's Python client gets the ack from a duct server",
  ignore: IS_WINDOWS, // a Unix socket client
  async fn() {
    const [code] = await blocks("docs/protocol.md", "python");
    assert(code?.includes("testPipe.sock"), "docs/protocol.md has its Python client");
    await using server = await Server.start();
    const output = await run("python3", [
      "-c",
      code.replace("testPipe.sock", `${server.name}.sock`),
    ]);
    assertEquals(output, { code: 0, out: "b'Message received successfully'\n" });
    await server.waitForCount("message", 1);
    assertEquals(server.eventsOf("message").map((event) => event.text), ["hello"]);
  },
});
