/**
 * Runs the peers' drivers as child processes: a server that reports when it listens and answers
 * `stats`, and clients that print one line of JSON.
 *
 * @module
 */

import { fromFileUrl } from "@std/path";
import type { ClientParams, Peer, ServerParams } from "./_plan.ts";

/** Longest a client may take before it is killed and the peer's figure is given up. */
const CLIENT_TIMEOUT_MS = 180_000;
/** Longest a server may take to start listening. */
const READY_TIMEOUT_MS = 30_000;

/** How to start the runtimes. */
export interface Runtimes {
  /** The Deno executable (the one running the harness). */
  deno: string;
  /** The Node executable, or `undefined` where there is none. */
  node: string | undefined;
  /** Environment for every driver (where the npm peers live). */
  env: Record<string, string>;
}

/** What a server reports about itself. */
export interface ServerStats {
  rss: number;
  threads: number | null;
  connections: number;
}

/** A running server driver. */
export interface Server {
  /** Asks the server for its memory, threads and connection count. */
  stats(): Promise<ServerStats>;
  /** Ends the server (closes its stdin) and waits for it to exit. */
  stop(): Promise<void>;
}

/** A running client driver. */
export interface Client {
  /** The next line of JSON it prints. */
  next(): Promise<Record<string, unknown>>;
  /** Ends the client (closes its stdin) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `peer`'s server in `mode` on `path` and waits until it listens.
 *
 * @example
 * ```ts ignore
 * const server = await startServer(runtimes, peer, "echo", "/tmp/x.sock");
 * console.log((await server.stats()).rss);
 * await server.stop();
 * ```
 */
export async function startServer(
  runtimes: Runtimes,
  peer: Peer,
  mode: "echo" | "sink",
  path: string,
  params: ServerParams = {},
): Promise<Server> {
  const child = spawn(runtimes, peer, ["server", mode, path, JSON.stringify(params)]);
  await child.next(READY_TIMEOUT_MS);
  return {
    async stats() {
      await child.send("stats\n");
      return await child.next(READY_TIMEOUT_MS) as unknown as ServerStats;
    },
    stop: () => child.stop(),
  };
}

/**
 * Runs a client driver to the end and returns its samples.
 *
 * @example
 * ```ts ignore
 * const samples = await runClient(runtimes, peer, "rtt", "/tmp/x.sock", params);
 * ```
 */
export async function runClient(
  runtimes: Runtimes,
  peer: Peer,
  workload: "rtt" | "echo" | "stream",
  path: string,
  params: ClientParams,
): Promise<number[]> {
  const child = spawn(runtimes, peer, ["client", workload, path, JSON.stringify(params)]);
  try {
    const line = await child.next(CLIENT_TIMEOUT_MS);
    return line.samples as number[];
  } finally {
    await child.stop();
  }
}

/**
 * Starts a client driver that holds idle connections until stopped.
 *
 * @example
 * ```ts ignore
 * const idle = startIdle(runtimes, peer, "/tmp/x.sock", params);
 * await idle.next(); // {"connected": 1000}
 * await idle.stop();
 * ```
 */
export function startIdle(
  runtimes: Runtimes,
  peer: Peer,
  path: string,
  params: ClientParams,
): Client {
  const child = spawn(runtimes, peer, ["client", "idle", path, JSON.stringify(params)]);
  return { next: () => child.next(CLIENT_TIMEOUT_MS), stop: () => child.stop() };
}

/** A driver process that answers in lines of JSON on stdout (see {@linkcode spawnDriver}). */
export interface Child {
  /** The next line of JSON it prints; kills it if none comes within `timeout` ms. */
  next(timeout: number): Promise<Record<string, unknown>>;
  /** Writes `text` to its stdin. */
  send(text: string): Promise<void>;
  /** Closes its stdin and waits for it to exit. */
  stop(): Promise<void>;
}

function spawn(runtimes: Runtimes, peer: Peer, args: string[]): Child {
  const driver = new URL(`./peers/${peer.driver}`, import.meta.url);
  const script = driver.protocol === "file:" ? fromFileUrl(driver) : driver.href;
  const command = peer.runtime === "deno"
    ? [runtimes.deno, "run", "--allow-all", "--quiet", "--no-lock", script]
    : [runtimes.node ?? "node", script];
  return spawnDriver([...command, ...args], runtimes.env, `${peer.id} ${args[0]} ${args[1]}`);
}

/**
 * Starts `command` with `env`; `label` names it in errors, which end with its last stderr.
 *
 * @example
 * ```ts ignore
 * const child = spawnDriver(["deno", "run", "-A", "peers/duct_rpc.ts", "bench", path], {}, "duct");
 * console.log(await child.next(60_000));
 * await child.stop();
 * ```
 */
export function spawnDriver(command: string[], env: Record<string, string>, label: string): Child {
  const process = new Deno.Command(command[0], {
    args: command.slice(1),
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = process.stdin.getWriter();
  const lines = readLines(process.stdout);
  let stderr = "";
  const stderrDone = process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (stderr = (stderr + text).slice(-4000)) }),
  ).catch(() => {});
  let stopped = false;
  const failure = (what: string) =>
    new Error(`${label}: ${what}${stderr ? `\n${stderr.trim()}` : ""}`);
  return {
    async next(timeout) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(failure(`no answer within ${timeout / 1000} s`)), timeout);
      });
      try {
        const line = await Promise.race([lines.next(), expired]);
        if (line.done) {
          const status = await process.status;
          await stderrDone;
          throw failure(`exited with status ${status.code} before answering`);
        }
        return JSON.parse(line.value);
      } catch (error) {
        if (!stopped) {
          stopped = true;
          try {
            process.kill("SIGKILL");
          } catch {
            // Already gone.
          }
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    async send(text) {
      await writer.write(new TextEncoder().encode(text));
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        await writer.close().catch(() => {});
      }
      await process.status;
      await lines.return(undefined);
      await stderrDone;
    },
  };
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + text).split("\n");
    rest = parts.pop() ?? "";
    for (const part of parts) if (part.trim() !== "") yield part;
  }
}
