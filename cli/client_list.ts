/**
 * The client's `--list` and `--ping`.
 *
 * @module
 */

import {
  connect,
  defaultDirectory,
  type EndpointInfo,
  listEndpoints,
  type TrustServer,
} from "../lib/mod.ts";
import { EXIT_OK } from "./exit_codes.ts";
import { escapeName } from "./output.ts";

const encoder = new TextEncoder();

/**
 * Prints the endpoints reachable by plain name: a table, or one JSON object per endpoint with
 * `json`. Resolves to the exit status (0, also when there are none: stderr then says where it
 * looked).
 *
 * @example
 * ```ts ignore
 * import { runList } from "./client_list.ts";
 * Deno.exit(await runList({ program: "duct-client", json: false }));
 * ```
 */
export async function runList(options: { program: string; json: boolean }): Promise<number> {
  const endpoints = await listEndpoints();
  if (options.json) {
    print(endpoints.map((endpoint) => JSON.stringify(endpoint)));
    return EXIT_OK;
  }
  if (endpoints.length === 0) {
    const where = Deno.build.os === "windows"
      ? "no named pipes"
      : `no endpoints in ${defaultDirectory((key) => Deno.env.get(key))}`;
    Deno.stderr.writeSync(encoder.encode(`${options.program}: ${where}\n`));
    return EXIT_OK;
  }
  print(table(endpoints));
  return EXIT_OK;
}

/** The rows of the `--list` table: NAME, STATE, PATH (and on Windows, PLAIN NAME). */
function table(endpoints: EndpointInfo[]): string[] {
  const windows = Deno.build.os === "windows";
  const rows = [
    windows ? ["NAME", "STATE", "PLAIN NAME", "PATH"] : ["NAME", "STATE", "PATH"],
    ...endpoints.map((endpoint) => {
      const name = escapeName(endpoint.name);
      const path = escapeName(endpoint.path);
      return windows
        ? [name, endpoint.state, endpoint.plainName ? "yes" : "no", path]
        : [name, endpoint.state, path];
    }),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]))
      .join("  ")
  );
}

/** What {@linkcode runPing} needs. */
export interface PingOptions {
  program: string;
  name: string;
  timeout: number;
  json: boolean;
  /** `--trust-server`: whose endpoint counts as an answer (default `"self"`). */
  trustServer?: TrustServer;
}

/**
 * Connects to `name` and prints how long it took; the connection is closed at once (a duct
 * server logs it as a client that connected and disconnected). Throws `ConnectTimeoutError`
 * (exit status 2) if no server answers within `timeout`.
 *
 * @example
 * ```ts ignore
 * import { runPing } from "./client_list.ts";
 * Deno.exit(await runPing({ program: "duct-client", name: "testPipe", timeout: 0, json: false }));
 * ```
 */
export async function runPing(options: PingOptions): Promise<number> {
  const start = performance.now();
  const { name, timeout, trustServer } = options;
  const conn = await connect({ name, timeout, trustServer });
  const ms = Math.round((performance.now() - start) * 100) / 100;
  await conn.close();
  print([
    options.json
      ? JSON.stringify({ event: "ping", name: options.name, ms })
      : `a server answered on ${escapeName(options.name)} in ${ms} ms`,
  ]);
  return EXIT_OK;
}

function print(lines: string[]): void {
  if (lines.length === 0) return;
  const bytes = encoder.encode(lines.join("\n") + "\n");
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}
