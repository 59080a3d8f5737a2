/**
 * Checks of GitHub Actions workflows that need no YAML parser: they take the parsed document, so
 * they can be unit-tested without one. `scripts/validate_workflows.ts` parses and calls them.
 *
 * @module
 */

/** What the checks need to know about the repository. */
export interface RepoFacts {
  /** Task names defined in `deno.json`. */
  tasks: ReadonlySet<string>;
  /** Whether a repository-relative path exists. */
  exists: (path: string) => boolean;
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
  }
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
