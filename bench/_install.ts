/**
 * Installs the npm peers (node-ipc, pinned in `bench/npm/`) into the ignored `bench/.peers/`
 * folder with `npm ci`, once: they are benchmark peers, never dependencies of duct.
 *
 * @module
 */

/** The folder the npm peers are installed in. */
export const PEERS_FOLDER = new URL("./.peers/", import.meta.url);
const MANIFEST_FOLDER = new URL("./npm/", import.meta.url);
const FILES = ["package.json", "package-lock.json"];

/**
 * Makes sure `bench/.peers/` holds the pinned peers; returns why not if they cannot be had.
 *
 * @example
 * ```ts ignore
 * import { installPeers } from "./_install.ts";
 * const problem = await installPeers("npm");
 * if (problem) console.log(`node-ipc skipped: ${problem}`);
 * ```
 */
export async function installPeers(npm: string): Promise<string | undefined> {
  const lock = await Deno.readTextFile(new URL("package-lock.json", MANIFEST_FOLDER));
  const installed = await Deno.readTextFile(new URL("package-lock.json", PEERS_FOLDER))
    .catch(() => undefined);
  const marker = new URL("node_modules/node-ipc/package.json", PEERS_FOLDER);
  const present = await Deno.stat(marker).then(() => true, () => false);
  if (present && installed === lock) return undefined;
  await Deno.mkdir(PEERS_FOLDER, { recursive: true });
  for (const file of FILES) {
    await Deno.copyFile(new URL(file, MANIFEST_FOLDER), new URL(file, PEERS_FOLDER));
  }
  console.error("installing the benchmark's npm peers into bench/.peers/ (npm ci)");
  try {
    const { success, stderr } = await new Deno.Command(npm, {
      // No install scripts: nothing of a peer runs except the drivers that load it.
      args: ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
      cwd: PEERS_FOLDER,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) return `npm ci failed: ${new TextDecoder().decode(stderr).trim()}`;
  } catch (error) {
    return `npm could not be run (${error instanceof Error ? error.message : error})`;
  }
  return undefined;
}
