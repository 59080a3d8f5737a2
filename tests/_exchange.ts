/**
 * One end-to-end scenario run against any way of starting duct — compiled executables or
 * `deno run` with the permissions the executables embed: `--version` of both, a server/client
 * exchange with every reply checked, a client with no server (exit 2), and a graceful stop.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { ACK } from "../server.ts";

/** How to start one program: a command and the arguments that come before duct's own. */
export interface Launcher {
  /** Executable to run. */
  command: string;
  /** Arguments placed before the program's options (e.g. `run --allow-… server.ts`). */
  prefix: string[];
}

/** Everything a finished process wrote. */
interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

const IS_WINDOWS = Deno.build.os === "windows";
/** Upper bound for the server to report that it listens (compiled startup included). */
const LISTEN_LIMIT_MS = 30_000;

/**
 * An environment in which duct's Unix socket directory is a fresh directory of the test's:
 * `TMPDIR` points there and `XDG_RUNTIME_DIR` is removed. Resolves with the environment and a
 * cleanup function.
 *
 * @example
 * ```ts ignore
 * import { isolatedEnv } from "./_exchange.ts";
 * const { env, cleanup } = await isolatedEnv();
 * await cleanup();
 * ```
 */
export async function isolatedEnv(): Promise<
  { env: Record<string, string>; cleanup: () => Promise<void> }
> {
  // Short names throughout: macOS's TMPDIR alone takes about half of sun_path's 103 bytes.
  const dir = await Deno.makeTempDir({ prefix: "dx" });
  const env = Deno.env.toObject();
  delete env.XDG_RUNTIME_DIR;
  env.TMPDIR = dir;
  env.NO_COLOR = "1";
  return { env, cleanup: () => Deno.remove(dir, { recursive: true }).catch(() => {}) };
}

async function run(launcher: Launcher, args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command(launcher.command, {
    args: [...launcher.prefix, ...args],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout).replaceAll("\r", ""),
    stderr: decoder.decode(stderr).replaceAll("\r", ""),
  } satisfies Finished;
}

async function collect(stream: ReadableStream<Uint8Array>, onLine?: (line: string) => void) {
  let text = "";
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    pending += chunk;
    for (let end; (end = pending.indexOf("\n")) >= 0;) {
      onLine?.(pending.slice(0, end).replace(/\r$/, ""));
      pending = pending.slice(end + 1);
    }
  }
  return text.replaceAll("\r", "");
}

/**
 * Runs the whole scenario and asserts every step.
 *
 * @example
 * ```ts ignore
 * import { exerciseDuct } from "./_exchange.ts";
 * await exerciseDuct(
 *   { command: "dist/duct-server-x86_64-unknown-linux-gnu", prefix: [] },
 *   { command: "dist/duct-client-x86_64-unknown-linux-gnu", prefix: [] },
 * );
 * ```
 */
export async function exerciseDuct(server: Launcher, client: Launcher): Promise<void> {
  const { env, cleanup } = await isolatedEnv();
  try {
    for (const [launcher, program] of [[server, "duct-server"], [client, "duct-client"]] as const) {
      const version = await run(launcher, ["--version"], env);
      assertEquals(version.code, 0, version.stderr);
      assertEquals(version.stdout.trim(), `${program} ${config.version}`);
    }

    const name = `x${crypto.randomUUID().slice(0, 8)}`;
    const child = new Deno.Command(server.command, {
      args: [...server.prefix, "--name", name, "--json"],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const listening = Promise.withResolvers<{ path: string }>();
    const stdout = collect(child.stdout, (line) => {
      const event = JSON.parse(line);
      if (event.event === "listening") listening.resolve(event);
    });
    const stderr = collect(child.stderr);
    // A server that dies before listening must fail the test with its own words, not hang it.
    stdout.then(async () => listening.reject(new Error(`server ended early: ${await stderr}`)));
    const limit = setTimeout(
      () => listening.reject(new Error("server did not listen in time")),
      LISTEN_LIMIT_MS,
    );
    let stopped = false;
    try {
      const { path } = await listening.promise;
      clearTimeout(limit);

      const exchange = await run(
        client,
        ["--name", name, "--timeout", "10", "hello", "ünïcode"],
        env,
      );
      assertEquals(exchange.code, 0, exchange.stderr);
      assertEquals(exchange.stdout.trim().split("\n"), [
        ACK,
        ACK,
      ]);

      const absent = await run(client, ["--name", `${name}-none`, "--timeout", "0.2", "x"], env);
      assertEquals(absent.code, 2, absent.stderr);
      assertStringIncludes(absent.stderr, "no server is listening");

      // Windows has no SIGTERM for other processes: TerminateProcess, no graceful exit to check.
      child.kill(IS_WINDOWS ? "SIGKILL" : "SIGTERM");
      stopped = true;
      const status = await child.status;
      const events = (await stdout).trim().split("\n").map((line) => JSON.parse(line));
      const texts = events.filter((event) => event.event === "message").map((event) => event.text);
      assertEquals(texts, ["hello", "ünïcode"]);
      if (!IS_WINDOWS) {
        assertEquals(status.code, 0, await stderr);
        const left = await Deno.lstat(path).then(() => true, () => false);
        assert(!left, `the socket ${path} was not removed on SIGTERM`);
      }
    } finally {
      clearTimeout(limit);
      if (!stopped) {
        try {
          child.kill("SIGKILL");
        } catch {
          // It already ended (the failure being reported is why).
        }
      }
      await child.status;
      await Promise.allSettled([stdout, stderr]);
    }
  } finally {
    await cleanup();
  }
}
