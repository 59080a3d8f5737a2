/**
 * `listEndpoints`: the endpoints this user can reach by plain name, on every platform.
 *
 * @module
 */

import { defaultDirectory } from "./endpoint.ts";

/** Whether a server answers at an endpoint. */
export type EndpointState = "live" | "stale" | "unknown";

/** One endpoint found by {@linkcode listEndpoints}. */
export interface EndpointInfo {
  /** The name to pass as `name` (`--name`). */
  name: string;
  /** The socket file, or the `\\.\pipe\NAME` path. */
  path: string;
  /**
   * Unix: `live` (a server accepted a probe connection), `stale` (a socket file nobody serves,
   * reclaimed by the next server), or `unknown` (the probe failed otherwise). Windows: always
   * `live`, since a pipe exists only while its server holds an instance (pipes are not probed).
   */
  state: EndpointState;
  /**
   * Whether a duct server listening on the plain name `name` would own exactly this endpoint:
   * always on Unix (duct's own directory); on Windows, for pipe names without a backslash (those
   * with one are another program's hierarchy, such as `LOCAL\…`, reachable only by full path).
   */
  plainName: boolean;
}

/**
 * Lists the endpoints this user can reach by plain name: on Unix the sockets in duct's per-user
 * directory, each probed (a live server logs the probe as a client that connected and left); on
 * Windows every named pipe on the machine (`FindFirstFileW` on `\\.\pipe\*`), not probed.
 *
 * @example
 * ```ts ignore
 * import { listEndpoints } from "./mod.ts";
 * for (const endpoint of await listEndpoints()) console.log(endpoint.name, endpoint.state);
 * ```
 */
export async function listEndpoints(): Promise<EndpointInfo[]> {
  if (Deno.build.os === "windows") return (await import("./windows/list.ts")).listPipes();
  const { listUnixEndpoints } = await import("./unix/list.ts");
  return await listUnixEndpoints(defaultDirectory((key) => Deno.env.get(key)));
}
