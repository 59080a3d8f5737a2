/**
 * Where a test's server listens, and cleaning up after it: fresh endpoint names, their OS paths,
 * private temporary directories, and the socket files a killed server leaves.
 *
 * @module
 */

import { resolveEndpoint } from "../lib/mod.ts";
import { IS_WINDOWS } from "./_process.ts";

/**
 * A fresh endpoint name for one test: short enough for `sun_path`, unique across parallel runs.
 */
export function uniqueName(label: string): string {
  const random = crypto.getRandomValues(new Uint8Array(5));
  return `duct-${label}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The OS path of endpoint `name`, as the entrypoints resolve it. */
export function endpointPath(name: string): string {
  return resolveEndpoint(name).path;
}

/**
 * The endpoint of one test's server: a socket file in `dir` on Unix (a private temporary
 * directory of the test's own), a fresh plain pipe name on Windows.
 */
export function endpointIn(dir: string): string {
  return IS_WINDOWS ? uniqueName("hardening") : `${dir}/s.sock`;
}

/** A unique, private temporary directory; remove it with {@linkcode removeQuietly}. */
export function tempDir(label: string): Promise<string> {
  // Under /tmp on Unix: macOS's per-user $TMPDIR is long enough to push a socket path past
  // sun_path's 104 bytes.
  return Deno.makeTempDir({ dir: IS_WINDOWS ? undefined : "/tmp", prefix: `duct-${label}-` });
}

/** Removes a path recursively, ignoring one that is gone. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch {
    // Already gone.
  }
}

/** Removes the Unix socket file at `path` if there is one (a test's own, leftover endpoint). */
export async function removeSocketFile(path: string): Promise<void> {
  if (IS_WINDOWS) return;
  try {
    if ((await Deno.lstat(path)).isSocket) await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
