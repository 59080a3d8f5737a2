/**
 * Listing the Unix endpoints reachable by plain name: the sockets in duct's per-user directory,
 * each probed with a connect.
 *
 * @module
 */

import type { EndpointInfo, EndpointState } from "../list.ts";

const SOCKET_SUFFIX = ".sock";

/**
 * The sockets in `directory` (duct's per-user one), sorted by name, each `live` if a server
 * accepts a connection there, `stale` if nobody does (left by a crashed server), or `unknown`
 * if the probe failed otherwise. A missing directory lists nothing.
 *
 * @example
 * ```ts ignore
 * import { listUnixEndpoints } from "./list.ts";
 * console.log(await listUnixEndpoints("/run/user/1000/duct"));
 * ```
 */
export async function listUnixEndpoints(directory: string): Promise<EndpointInfo[]> {
  const paths: { name: string; path: string }[] = [];
  try {
    for await (const entry of Deno.readDir(directory)) {
      if (!entry.name.endsWith(SOCKET_SUFFIX)) continue;
      const path = `${directory}/${entry.name}`;
      const info = await Deno.lstat(path).catch(() => undefined);
      if (info?.isSocket) paths.push({ name: entry.name.slice(0, -SOCKET_SUFFIX.length), path });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  paths.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return await Promise.all(
    paths.map(async ({ name, path }) => ({
      name,
      path,
      state: await probe(path),
      plainName: true,
    })),
  );
}

// A connection made and closed at once: the server sees a client come and go.
async function probe(path: string): Promise<EndpointState> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return "live";
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return "stale";
    // A full accept queue: a server is there, busy.
    if (error instanceof Deno.errors.WouldBlock) return "live";
    return "unknown";
  }
}
