/**
 * `deno task validate:workflows`: parses every `.github/workflows/*.yml` and checks that each is
 * a well-formed workflow, that every `deno task` it runs is defined in `deno.json`, and that
 * every repository file it names exists (see {@linkcode checkWorkflow}). Exits 1 on a problem.
 *
 * @module
 */

import { checkWorkflow, type RepoFacts } from "./workflow_rules.ts";

/**
 * The YAML parser. Deno has none built in and JSR is not always reachable, so this dev-only
 * script takes the `yaml` package from npm, pinned exactly. The specifier is held in a variable
 * so that `deno check` of the workspace leaves it out of the module graph (and writes no
 * lockfile); only this script loads it, at run time.
 */
const YAML_PACKAGE = "npm:yaml@2.8.1";

const ROOT = new URL("..", import.meta.url);
const WORKFLOWS = new URL(".github/workflows/", ROOT);

/** Task names and file existence, read from the checkout. */
async function repoFacts(): Promise<RepoFacts> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return {
    tasks: new Set(Object.keys(config.tasks ?? {})),
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
  const { parse } = await import(YAML_PACKAGE) as { parse(text: string): unknown };
  const repo = await repoFacts();
  const files: string[] = [];
  for await (const entry of Deno.readDir(WORKFLOWS)) {
    if (entry.isFile && /\.ya?ml$/.test(entry.name)) files.push(entry.name);
  }
  files.sort();
  if (files.length === 0) {
    console.error("validate-workflows: no workflow files in .github/workflows");
    return 1;
  }
  const problems: string[] = [];
  for (const name of files) {
    const path = `.github/workflows/${name}`;
    let document: unknown;
    try {
      document = parse(await Deno.readTextFile(new URL(name, WORKFLOWS)));
    } catch (error) {
      problems.push(`${path}: not valid YAML: ${(error as Error).message.split("\n")[0]}`);
      continue;
    }
    problems.push(...checkWorkflow(path, document, repo));
  }
  for (const text of problems) console.error(`validate-workflows: ${text}`);
  if (problems.length > 0) return 1;
  console.log(`validate-workflows: ${files.length} workflow files valid (${files.join(", ")})`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
