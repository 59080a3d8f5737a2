/**
 * Unit tests of the release tooling: targets, executable names, embedded permissions, the
 * `deno compile` command line, and the workflow checks.
 */

import { compileArgs, downloadHint } from "../scripts/compile.ts";
import {
  binaryName,
  isWindowsTarget,
  permissionFlags,
  SOCKET_ROOTS,
  TARGETS,
} from "../scripts/targets.ts";
import { checkWorkflow, fileReferences, taskReferences } from "../scripts/workflow_rules.ts";
import { assert, assertEquals } from "./_assert.ts";

Deno.test("targets: the five release targets, .exe only on Windows", () => {
  assertEquals(TARGETS.length, 5);
  assertEquals(
    TARGETS.map((target) => binaryName("duct-server", target)).filter((n) => n.endsWith(".exe")),
    ["duct-server-x86_64-pc-windows-msvc.exe"],
  );
  assertEquals(
    binaryName("duct-client", "aarch64-apple-darwin"),
    "duct-client-aarch64-apple-darwin",
  );
});

Deno.test("permissions: FFI only for Windows, files only under the socket roots, never a prompt", () => {
  for (const target of TARGETS) {
    const flags = permissionFlags(target);
    assert(flags.includes("--no-prompt"), target);
    assertEquals(flags.includes("--allow-ffi"), isWindowsTarget(target), target);
    assert(!flags.some((flag) => flag === "--allow-all" || flag === "-A"), target);
    assert(!flags.some((flag) => flag.startsWith("--allow-run")), target);
    for (const flag of flags.filter((f) => /^--allow-(read|write)/.test(f))) {
      assertEquals(flag.split("=")[1], SOCKET_ROOTS.join(","), target);
    }
    // Every --allow-read/--allow-write/--allow-env is scoped (has a value).
    for (const flag of flags.filter((f) => /^--allow-(read|write|env|sys)/.test(f))) {
      assert(flag.includes("="), `${target}: ${flag} is unscoped`);
    }
  }
});

Deno.test("compileArgs: target, permissions, output and entrypoint", () => {
  const args = compileArgs("duct-server", "x86_64-pc-windows-msvc", "dist");
  assertEquals(args.slice(0, 3), ["compile", "--target", "x86_64-pc-windows-msvc"]);
  assertEquals(args.at(-1), "server.ts");
  assert(args.includes("--allow-ffi"));
  const output = args[args.indexOf("--output") + 1];
  assert(output.endsWith("duct-server-x86_64-pc-windows-msvc.exe"), output);
});

Deno.test("downloadHint: only for a runtime download failure", () => {
  assert(downloadHint("error sending request for url (https://dl.deno.land/x.zip)") !== undefined);
  assertEquals(downloadHint("Type error TS2322"), undefined);
});

Deno.test("workflow rules: deno task references", () => {
  assertEquals(taskReferences("deno task test"), ["test"]);
  assertEquals(
    taskReferences("deno task compile --target host && deno task validate:workflows"),
    ["compile", "validate:workflows"],
  );
  assertEquals(taskReferences("deno task --cwd=sub bench"), ["bench"]);
  assertEquals(taskReferences("deno test -A"), []);
});

Deno.test("workflow rules: file references skip URLs, options, variables and build outputs", () => {
  assertEquals(
    fileReferences(
      `bash scripts/smoke_binaries.sh dist; deno run https://x.test/a.ts --out=x.json ` +
        `"$server" dist/duct-server.exe ./tests/compile_test.ts deno.json console.log`,
    ),
    ["scripts/smoke_binaries.sh", "tests/compile_test.ts", "deno.json"],
  );
});

Deno.test("workflow rules: checkWorkflow reports every kind of problem", () => {
  const repo = {
    tasks: new Set(["test"]),
    exists: (path: string) => path === ".dvmrc" || path === "scripts/ok.sh",
  };
  const workflow = {
    on: "push",
    jobs: {
      a: {
        "runs-on": "ubuntu-latest",
        steps: [
          { uses: "actions/checkout@v4" },
          { uses: "denoland/setup-deno", with: { "deno-version-file": ".dvmrc" } },
          { uses: "denoland/setup-deno@v2", with: { "deno-version-file": ".nvmrc" } },
          { run: "deno task test && deno task nope" },
          { run: "bash scripts/ok.sh && bash scripts/missing.sh" },
          { name: "empty" },
        ],
      },
      b: { needs: ["a", "c"], steps: [{ run: "true" }] },
    },
  };
  assertEquals(checkWorkflow("w.yml", workflow, repo), [
    "w.yml: job a: step 2: uses denoland/setup-deno without an @ref",
    "w.yml: job a: step 3: deno-version-file .nvmrc does not exist",
    "w.yml: job a: step 4: runs deno task nope, which deno.json does not define",
    "w.yml: job a: step 5: names scripts/missing.sh, which does not exist",
    "w.yml: job a: step 6: needs exactly one of uses and run",
    "w.yml: job b: needs unknown job c",
    "w.yml: job b: no runs-on",
  ]);
  assertEquals(checkWorkflow("w.yml", { jobs: {} }, repo), [
    "w.yml: no `on` trigger",
    "w.yml: no jobs",
  ]);
});
