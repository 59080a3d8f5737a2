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
  assertEquals(config.publish.include, ["lib/", "README.md", "LICENSE"]);
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
