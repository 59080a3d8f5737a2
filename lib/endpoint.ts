/**
 * Endpoint naming: turns a plain name such as `testPipe` into the OS path a transport uses.
 *
 * @module
 */

import { InvalidNameError } from "./errors.ts";

/** The name used when none is given, as in the original Win32 example. */
export const DEFAULT_NAME = "testPipe";

/** The prefix of every Windows named pipe path. */
export const PIPE_PREFIX = "\\\\.\\pipe\\";

/** Bytes usable in `sun_path` (its size less the terminating NUL) per Unix system. */
const SUN_PATH_MAX: Record<string, number> = { linux: 107, darwin: 103 };
const SUN_PATH_DEFAULT = 103;

/** The extension of a socket file in duct's directory; a plain name that has it gets no second. */
const SOCKET_SUFFIX = ".sock";

/** Characters in a whole pipe path (`\\.\pipe\` included), per CreateNamedPipe's documentation. */
const PIPE_PATH_MAX = 256;

/** The platform an endpoint is resolved for. */
export type Platform = "windows" | "unix";

/** A resolved endpoint. */
export interface Endpoint {
  /** The name as the user gave it. */
  name: string;
  /** The socket file path, or the `\\.\pipe\NAME` path on Windows. */
  path: string;
  /** `true` when `path` lies in duct's own per-user directory (created and checked by duct). */
  managedDirectory: boolean;
  /** The platform the path is for. */
  platform: Platform;
}

/** Inputs of {@linkcode resolveEndpoint}; each defaults to the running process's. */
export interface ResolveOptions {
  /** `Deno.build.os` value to resolve for. */
  os?: typeof Deno.build.os;
  /** Environment lookup (`XDG_RUNTIME_DIR`, `TMPDIR`). */
  env?: (key: string) => string | undefined;
  /** The user id used in the fallback directory name. */
  uid?: number | null;
}

/**
 * Resolves an endpoint name to its OS path and validates it.
 *
 * - Windows: `\\.\pipe\NAME`; a name already starting with `\\.\pipe\` is kept.
 * - Unix: `$XDG_RUNTIME_DIR/duct/NAME.sock`, else `${TMPDIR:-/tmp}/duct-UID/NAME.sock` (a name
 *   already ending in `.sock` gets no second one); a name containing `/` is a path and kept.
 *
 * @throws {InvalidNameError} for an empty name, a NUL byte, a path too long for the OS, or (Windows)
 * a pipe name with an empty, `.` or `..` segment.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { resolveEndpoint } from "./mod.ts";
 * const endpoint = resolveEndpoint("testPipe", { os: "windows" });
 * assertEquals(endpoint.path, "\\\\.\\pipe\\testPipe");
 * ```
 */
export function resolveEndpoint(name: string, options: ResolveOptions = {}): Endpoint {
  const os = options.os ?? Deno.build.os;
  if (name.length === 0) throw new InvalidNameError("the endpoint name is empty");
  if (name.includes("\0")) throw new InvalidNameError("the endpoint name contains a NUL byte");
  if (os === "windows") return resolvePipe(name);

  const env = options.env ?? ((key: string) => Deno.env.get(key));
  let path: string;
  let managedDirectory = false;
  if (name.includes("/")) {
    path = name;
  } else {
    // `rel.sock` means the socket file `rel.sock`, not `rel.sock.sock`.
    const file = name.endsWith(SOCKET_SUFFIX) ? name : name + SOCKET_SUFFIX;
    path = `${defaultDirectory(env, options.uid)}/${file}`;
    managedDirectory = true;
  }
  const limit = SUN_PATH_MAX[os] ?? SUN_PATH_DEFAULT;
  const size = new TextEncoder().encode(path).length;
  if (size > limit) {
    throw new InvalidNameError(
      `the socket path ${path} is ${size} bytes; Unix sockets allow at most ${limit} bytes on ` +
        `${os} (sun_path); choose a shorter name or pass a shorter path`,
    );
  }
  return { name, path, managedDirectory, platform: "unix" };
}

/**
 * The per-user directory that holds duct's sockets on Unix. A relative `XDG_RUNTIME_DIR` is
 * ignored, as the XDG Base Directory specification requires (it would depend on the working
 * directory, so a server and its clients could disagree); so is a relative `TMPDIR`.
 *
 * @example
 * ```ts
 * import { defaultDirectory } from "./mod.ts";
 * console.log(defaultDirectory((key) => key === "XDG_RUNTIME_DIR" ? "/run/user/1000" : undefined));
 * // /run/user/1000/duct
 * ```
 */
export function defaultDirectory(
  env: (key: string) => string | undefined,
  uid?: number | null,
): string {
  const runtime = env("XDG_RUNTIME_DIR");
  if (runtime?.startsWith("/")) return `${runtime.replace(/\/+$/, "")}/duct`;
  const tmpdir = env("TMPDIR");
  const tmp = (tmpdir?.startsWith("/") ? tmpdir : "/tmp").replace(/\/+$/, "");
  return `${tmp}/duct-${uid ?? Deno.uid() ?? "user"}`;
}

function resolvePipe(name: string): Endpoint {
  const hasPrefix = name.toLowerCase().startsWith(PIPE_PREFIX);
  const path = hasPrefix ? name : PIPE_PREFIX + name;
  const rest = path.slice(PIPE_PREFIX.length);
  if (rest.length === 0) throw new InvalidNameError("the pipe name after \\\\.\\pipe\\ is empty");
  // Win32 path parsing folds `.` and `..` segments and treats `/` as `\`: `\\.\pipe\..\COM1`
  // would open the device `\\.\COM1`, and an empty segment is no pipe name either.
  const segments = rest.split(/[\\/]/);
  const bad = segments.find((segment) => segment === "" || segment === "." || segment === "..");
  if (bad !== undefined) {
    throw new InvalidNameError(
      `the pipe name ${rest} has ${bad === "" ? "an empty" : `a "${bad}"`} segment between ` +
        `its backslashes or slashes; Windows would resolve it outside \\\\.\\pipe\\ or reject ` +
        `it: use a name such as testPipe or app\\testPipe`,
    );
  }
  if (path.length > PIPE_PATH_MAX) {
    throw new InvalidNameError(
      `the pipe path ${path} is ${path.length} characters; Windows allows at most ` +
        `${PIPE_PATH_MAX} (\\\\.\\pipe\\ included); choose a shorter name`,
    );
  }
  return { name, path, managedDirectory: false, platform: "windows" };
}
