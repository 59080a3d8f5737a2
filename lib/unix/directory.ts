/**
 * The directory a Unix socket lives in: duct's own one created private, the modes `allowOthers`
 * needs (the directory reachable, every directory above it enterable), and why a socket is out of
 * reach when connecting is refused.
 *
 * @module
 */

import { DuctError, InvalidNameError, PermissionDeniedError, UnsafePathError } from "../errors.ts";
import type { TransportListenOptions } from "../transport.ts";

/** Owner-only directory: rwx for the user. */
const PRIVATE_DIRECTORY_MODE = 0o700;
/** Directory that others may traverse but not list or write (`--allow-others`). */
const SHARED_DIRECTORY_MODE = 0o711;
/** The bit that lets other users enter a directory (search permission for "others"). */
const OTHERS_SEARCH = 0o001;

/**
 * The directory above `path` that this user cannot enter, if that is why `path` is out of reach;
 * `undefined` when the socket itself can be seen (its own mode refused the connection), or when
 * this process may not look (narrowed Deno permissions).
 *
 * @example
 * ```ts
 * import { closedDirectory } from "./directory.ts";
 * console.log(closedDirectory("/tmp/no-such.sock")); // undefined: nothing is closed on the way
 * ```
 */
export function closedDirectory(path: string): string | undefined {
  try {
    Deno.statSync(path);
    return undefined;
  } catch (error) {
    if (!(error instanceof Deno.errors.PermissionDenied)) return undefined;
  }
  // The first directory, from the top, whose entries cannot be looked at.
  const parts = path.split("/").slice(0, -1);
  for (let end = 2; end <= parts.length; end++) {
    const inner = parts.slice(0, end).join("/");
    if (inner === "") continue;
    try {
      Deno.statSync(inner);
    } catch (error) {
      return error instanceof Deno.errors.PermissionDenied ? directoryOf(inner) : undefined;
    }
  }
  return directoryOf(path);
}

/**
 * Sets a umask under which new files are owner-only, and returns how to put the old one back.
 * The umask is process-wide, so it is held only around one synchronous call. Without
 * `--allow-sys` it stays as it is, and the chmod after binding is the only guard.
 *
 * @example
 * ```ts ignore
 * const restore = ownerOnlyUmask();
 * try {
 *   listener = Deno.listen({ transport: "unix", path });
 * } finally {
 *   restore();
 * }
 * ```
 */
export function ownerOnlyUmask(): () => void {
  let previous: number;
  try {
    previous = Deno.umask(0o177);
  } catch {
    return () => {};
  }
  return () => void Deno.umask(previous);
}

/**
 * The directory part of a socket path (`.` for a bare file name).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { directoryOf } from "./directory.ts";
 * assertEquals(directoryOf("/run/user/1000/duct/a.sock"), "/run/user/1000/duct");
 * assertEquals(directoryOf("a.sock"), ".");
 * ```
 */
export function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

/**
 * Makes `directory` ready for a socket: it must be a real directory owned by this user; duct's
 * own directory is created private (its parent must exist: only duct's directory is created),
 * and an existing one is given the mode its sockets need.
 *
 * @throws {InvalidNameError} if a directory that should exist does not.
 * @throws {UnsafePathError} for a symbolic link, a non-directory, or another user's directory.
 * @throws {PermissionDeniedError} if `allowOthers` is asked and other users cannot reach it.
 *
 * @example
 * ```ts ignore
 * await prepareDirectory("/run/user/1000/duct", options);
 * ```
 */
export async function prepareDirectory(
  directory: string,
  options: TransportListenOptions,
): Promise<void> {
  const uid = Deno.uid();
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(directory);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw mapError(error, directory);
    // Only duct's own directory is created; a path the user gave is used as is.
    if (!options.managedDirectory) {
      throw new InvalidNameError(
        `cannot listen on ${options.path}: the directory ${directory} does not exist; create ` +
          `it first, or give a plain name to use duct's own directory`,
        { cause: error },
      );
    }
    await createOwnDirectory(directory, options);
    info = await Deno.lstat(directory);
  }
  if (info.isSymlink) {
    throw new UnsafePathError(`refusing ${directory}: it is a symbolic link`);
  }
  if (!info.isDirectory) throw new UnsafePathError(`refusing ${directory}: it is not a directory`);
  const owned = isOwnedDirectory(directory);
  if (owned) {
    if (uid !== null && info.uid !== uid) {
      throw new UnsafePathError(
        `refusing ${directory}: it belongs to user ${info.uid}, not to you (${uid})`,
      );
    }
    const mode = options.allowOthers || await holdsSharedSocket(directory)
      ? SHARED_DIRECTORY_MODE
      : PRIVATE_DIRECTORY_MODE;
    if (((info.mode ?? 0) & 0o777) !== mode) await Deno.chmod(directory, mode);
  }
  if (options.allowOthers) await requireReachable(directory, options.path, owned);
}

// Creates duct's own directory, not its parent: a missing `XDG_RUNTIME_DIR` or `TMPDIR` is a
// misconfiguration to report, not a tree to make up.
async function createOwnDirectory(
  directory: string,
  options: TransportListenOptions,
): Promise<void> {
  try {
    await Deno.mkdir(directory, { mode: PRIVATE_DIRECTORY_MODE });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return;
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const parent = directoryOf(directory);
    const variable = directory.endsWith("/duct") ? "XDG_RUNTIME_DIR" : "TMPDIR";
    throw new InvalidNameError(
      `cannot listen on ${options.path}: ${parent} (from ${variable}) does not exist; create ` +
        `it, or set ${variable} to a directory that exists (or unset it)`,
      { cause: error },
    );
  }
}

// Whether another server in this directory lets others connect (its socket is writable by
// others): the directory must then stay reachable, whatever this server's own choice.
async function holdsSharedSocket(directory: string): Promise<boolean> {
  for await (const entry of Deno.readDir(directory)) {
    if (!entry.name.endsWith(".sock")) continue;
    try {
      const info = await Deno.lstat(`${directory}/${entry.name}`);
      if (info.isSocket && ((info.mode ?? 0) & 0o002) !== 0) return true;
    } catch {
      // Gone meanwhile.
    }
  }
  return false;
}

// With `allowOthers`, other users must be able to enter every directory above the socket: a
// closed one (`XDG_RUNTIME_DIR` is `0700`) would refuse them whatever the socket's mode, and a
// server that says it lets others in must not silently keep them out. Directories this process
// may not inspect (narrowed Deno permissions) are given the benefit of the doubt.
async function requireReachable(directory: string, path: string, owned: boolean): Promise<void> {
  for (let dir = owned ? directoryOf(directory) : directory;; dir = directoryOf(dir)) {
    let mode: number | undefined;
    try {
      mode = (await Deno.stat(dir)).mode ?? undefined;
    } catch {
      mode = undefined;
    }
    if (mode !== undefined && (mode & OTHERS_SEARCH) === 0) {
      throw new PermissionDeniedError(
        `cannot let other users connect to ${path} (allowOthers): they cannot enter ${dir} ` +
          `(mode ${(mode & 0o777).toString(8).padStart(4, "0")}); give a path in a directory ` +
          `they can reach (as /tmp/NAME.sock), or, for a plain name, unset XDG_RUNTIME_DIR ` +
          `so that duct's directory is in TMPDIR (or /tmp)`,
      );
    }
    if (dir === "/" || dir === ".") return;
  }
}

// Directories named `duct` or `duct-UID` are duct's own; any other was chosen by the user. Not
// `managedDirectory`, which is true only for plain names: a path into duct's directory given in
// full (`--name /tmp/duct-1000/x.sock`, as docs/reliability.md shows) gets the same checks.
function isOwnedDirectory(directory: string): boolean {
  const base = directory.slice(directory.lastIndexOf("/") + 1);
  return base === "duct" || /^duct-\d+$/.test(base);
}

/**
 * The operating system's error as a DuctError naming the path. Deno's own permission error
 * (`NotCapable`, a missing --allow-* flag) is passed on: it already names the flag to add.
 *
 * @example
 * ```ts
 * import { mapError } from "./directory.ts";
 * console.log(mapError(new Deno.errors.PermissionDenied("EACCES"), "/x.sock")); // PermissionDeniedError
 * ```
 */
export function mapError(error: unknown, path: string): unknown {
  if (error instanceof Deno.errors.PermissionDenied) {
    return new PermissionDeniedError(`permission denied on ${path}`, { cause: error });
  }
  if (error instanceof DuctError || error instanceof Deno.errors.NotCapable) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DuctError(`cannot use ${path}: ${detail}`, { cause: error });
}
