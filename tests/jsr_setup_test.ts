/**
 * Tests of how the project resolves its `jsr:` imports: exact pins and no lockfile in deno.json,
 * and `scripts/deno.sh` using the local registry of `../shared/jsr` where there is one.
 *
 * @module
 */

import { assertEquals, assertMatch } from "@std/assert";

const ROOT = new URL("..", import.meta.url);

Deno.test("jsr: deno.json pins every @std import exactly and writes no lockfile", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assertEquals(config.lock, false);
  for (const [name, specifier] of Object.entries(config.imports as Record<string, string>)) {
    assertMatch(specifier, new RegExp(`^jsr:${name}@\\d+\\.\\d+\\.\\d+$`), name);
  }
  for (const name of ["@std/cli", "@std/assert", "@std/streams", "@std/fmt"]) {
    assertEquals(name in config.imports, true, `${name} is mapped`);
  }
  assertEquals(config.license, "MIT");
  // docs/ too: the README links into it, on the JSR page as on GitHub.
  assertEquals(config.publish.include, ["lib/", "docs/", "README.md", "LICENSE"]);
});

Deno.test("jsr: the programs' own imports name their @std version in full, the one deno.json pins", async () => {
  // `deno install` or `deno run` of client.ts/server.ts from a URL sees no deno.json: a bare
  // `@std/...` there would not resolve. Tests and doc examples use the map.
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const files = ["server.ts", "client.ts"];
  for (const dir of ["cli", "lib", "lib/unix", "lib/windows"]) {
    for await (const entry of Deno.readDir(new URL(`${dir}/`, ROOT))) {
      if (entry.isFile && entry.name.endsWith(".ts")) files.push(`${dir}/${entry.name}`);
    }
  }
  let seen = 0;
  for (const file of files) {
    const code = await Deno.readTextFile(new URL(file, ROOT));
    // Import lines outside comments (doc examples run with the map).
    for (const [, specifier] of code.matchAll(/^import [^;]*? from "([^"]+)";/gms)) {
      if (specifier.startsWith("@std/")) throw new Error(`${file} imports bare ${specifier}`);
      const pinned = /^jsr:(@std\/[a-z-]+)@([^/]+)/.exec(specifier);
      if (pinned === null) continue;
      assertEquals(`jsr:${pinned[1]}@${pinned[2]}`, config.imports[pinned[1]], file);
      seen++;
    }
  }
  assertEquals(seen >= 2, true, "the CLI's @std imports were found");
});

Deno.test("jsr: scripts/deno.sh uses ../shared/jsr when it exists and JSR_URL is unset", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const shared = new URL("../shared/jsr/activate.sh", ROOT);
  const hasShared = await Deno.stat(shared).then(() => true, () => false);
  const env = Deno.env.toObject();
  delete env.JSR_URL;
  const run = (extra: Record<string, string>) =>
    new Deno.Command("sh", {
      args: [
        new URL("scripts/deno.sh", ROOT).pathname,
        "eval",
        'console.log(Deno.env.get("JSR_URL") ?? "unset")',
      ],
      env: { ...env, ...extra },
      clearEnv: true,
      stderr: "inherit",
    }).output();
  const unset = await run({});
  assertEquals(unset.code, 0);
  const url = new TextDecoder().decode(unset.stdout).trim();
  if (hasShared) assertMatch(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  else assertEquals(url, "unset");
  // A JSR_URL already set (a registry of one's own) is left alone.
  const set = await run({ JSR_URL: "http://127.0.0.1:1/" });
  assertEquals(new TextDecoder().decode(set.stdout).trim(), "http://127.0.0.1:1/");
});
