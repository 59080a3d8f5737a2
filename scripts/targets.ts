/**
 * The platforms duct ships executables for, the names of those executables, and the permissions
 * embedded in each. Shared by `scripts/compile.ts` and the tests, so what is tested is what ships.
 *
 * @module
 */

/** Every `deno compile --target` duct builds, in release order. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** One of {@linkcode TARGETS}. */
export type Target = typeof TARGETS[number];

/** The two programs, by the entrypoint each is built from. */
export const PROGRAMS = {
  "duct-server": "server.ts",
  "duct-client": "client.ts",
} as const;

/** `duct-server` or `duct-client`. */
export type Program = keyof typeof PROGRAMS;

/**
 * Directories under which the Unix binaries may read and write (the socket directory and the
 * socket inside it). Permission flags are fixed when compiling and cannot expand
 * `$XDG_RUNTIME_DIR` or `$TMPDIR` at run time, so these are the places those variables point to
 * on ordinary systems: `/run/user/UID` (systemd's XDG_RUNTIME_DIR), `/tmp`, and macOS's per-user
 * `/var/folders/…/T` (listed with and without its `/private` real path, as macOS links `/var` and
 * `/tmp` there).
 */
export const SOCKET_ROOTS = [
  "/tmp",
  "/run/user",
  "/var/folders",
  "/private/tmp",
  "/private/var/folders",
] as const;

/**
 * Whether `value` names a supported target.
 *
 * @example
 * ```ts
 * import { isTarget } from "./targets.ts";
 * console.log(isTarget("aarch64-apple-darwin")); // true
 * ```
 */
export function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

/**
 * Whether `target` builds Windows executables.
 *
 * @example
 * ```ts
 * import { isWindowsTarget } from "./targets.ts";
 * console.log(isWindowsTarget("x86_64-pc-windows-msvc")); // true
 * ```
 */
export function isWindowsTarget(target: Target): boolean {
  return target.includes("-windows-");
}

/**
 * The target of the running Deno, or `undefined` on a platform duct does not ship for.
 *
 * @example
 * ```ts
 * import { hostTarget } from "./targets.ts";
 * console.log(hostTarget()); // e.g. x86_64-unknown-linux-gnu
 * ```
 */
export function hostTarget(): Target | undefined {
  const target = Deno.build.target;
  return isTarget(target) ? target : undefined;
}

/**
 * The file name of a program built for `target`: `duct-server-TARGET`, plus `.exe` on Windows.
 *
 * @example
 * ```ts
 * import { binaryName } from "./targets.ts";
 * console.log(binaryName("duct-client", "x86_64-pc-windows-msvc"));
 * // duct-client-x86_64-pc-windows-msvc.exe
 * ```
 */
export function binaryName(program: Program, target: Target): string {
  return `${program}-${target}${isWindowsTarget(target) ? ".exe" : ""}`;
}

/**
 * The permission flags embedded in the executables for `target`: exactly what the code uses,
 * so the binaries never prompt and never need more.
 *
 * - `--allow-env`: `XDG_RUNTIME_DIR` and `TMPDIR` choose the Unix socket directory; `NO_COLOR`
 *   turns colour off. Windows reads only `NO_COLOR`.
 * - `--allow-sys=uid`: the fallback directory `duct-UID` and the owner checks (Unix).
 * - `--allow-read`/`--allow-write`: limited to {@linkcode SOCKET_ROOTS} (Unix). A `--name` that
 *   is a path elsewhere is refused with "permission denied"; run from source for that.
 * - `--allow-net` (Unix), unscoped: Deno 2.9 also requires `--allow-net=unix:PATH` for a Unix
 *   socket, and that grant matches one exact socket path only, while duct's path is known only at
 *   run time. The code opens nothing but Unix sockets.
 * - `--allow-ffi` (Windows), unscoped: the named-pipe transport calls kernel32, advapi32 and
 *   ntdll; a scoped grant is resolved against the working directory, so `kernel32.dll` by name
 *   would not match it.
 * - `--no-prompt`: a missing permission is an error, never a question.
 *
 * @example
 * ```ts
 * import { permissionFlags } from "./targets.ts";
 * console.log(permissionFlags("x86_64-pc-windows-msvc"));
 * // ["--no-prompt", "--allow-env=NO_COLOR", "--allow-ffi"]
 * ```
 */
export function permissionFlags(target: Target): string[] {
  if (isWindowsTarget(target)) return ["--no-prompt", "--allow-env=NO_COLOR", "--allow-ffi"];
  const roots = SOCKET_ROOTS.join(",");
  return [
    "--no-prompt",
    "--allow-env=XDG_RUNTIME_DIR,TMPDIR,NO_COLOR",
    "--allow-sys=uid",
    `--allow-read=${roots}`,
    `--allow-write=${roots}`,
    "--allow-net",
  ];
}
