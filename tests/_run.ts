/**
 * Running a program under test to completion and checking what it printed: `client.ts` and
 * `server.ts` (`runClient`, `runServer`), optionally as another local user, with a failsafe that
 * kills a hung process; a background writer of numbered lines for long-running clients, and a
 * `seq` for long inputs.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import type { OtherUser } from "./_other_user.ts";
import {
  CLIENT_SCRIPT,
  FAILSAFE_MS,
  IS_WINDOWS,
  type Output,
  Proc,
  type ProcOptions,
  SERVER_SCRIPT,
} from "./_process.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Asserts that a CLI failed with exactly one line on stderr, `PROGRAM: error: …`, containing
 * `text`, and printed nothing on stdout.
 */
export function assertOneLineError(output: Output, program: string, text: string): void {
  assertStringIncludes(output.stderr, text);
  assert(output.stderr.startsWith(`${program}: error: `), `stderr: ${output.stderr}`);
  assert(
    output.stderr.endsWith("\n") && output.stderr.indexOf("\n") === output.stderr.length - 1,
    `expected one line on stderr, got ${JSON.stringify(output.stderr)}`,
  );
  assertEquals(output.stdout, "");
}

/** Options of {@linkcode runClient}. */
export interface RunOptions extends ProcOptions {
  /** Bytes written to stdin, which is then closed; stdin is null when absent. */
  input?: string | Uint8Array;
  /**
   * On Windows, connect the process's stdin, stdout and stderr to files through `cmd.exe`
   * instead of pipes. Deno reads child pipes on a small pool of blocking threads there, so with
   * dozens of piped children at once it stops reading some of them and everything stalls.
   */
  viaFiles?: boolean;
  /** Run as this user (Linux, root only): its copy of the script, its own Deno. */
  user?: OtherUser;
}

// Characters that need no quoting for cmd.exe (paths, URLs, names, flags, numbers).
const PLAIN_ARG = /^[\w.:\\/=-]+$/;

async function runViaFiles(script: string, args: string[], options: RunOptions): Promise<Output> {
  const dir = await Deno.makeTempDir({ prefix: "duct-run-" });
  try {
    const [input, out, err] = ["in", "out", "err"].map((name) => `${dir}\\${name}`);
    await Deno.writeFile(
      input,
      typeof options.input === "string"
        ? encoder.encode(options.input)
        : options.input ?? new Uint8Array(0),
    );
    const words = [Deno.execPath(), "run", "-A", script, ...args];
    for (const word of [...words, dir]) {
      if (!PLAIN_ARG.test(word)) throw new Error(`viaFiles cannot pass ${word} through cmd.exe`);
    }
    const command = `${words.join(" ")} < ${input} > ${out} 2> ${err}`;
    const status = await new Deno.Command("cmd.exe", {
      args: ["/d", "/s", "/c", command],
      env: options.env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(FAILSAFE_MS),
    }).output();
    const stdoutBytes = await Deno.readFile(out);
    const stdout = decoder.decode(stdoutBytes);
    // Split as Proc does: on "\n", a last unterminated line kept.
    const lines = stdout.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return {
      code: status.code,
      signal: status.signal,
      stdout,
      stdoutBytes,
      lines,
      stderr: decoder.decode(await Deno.readFile(err)),
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs `deno run -A SCRIPT ARGS…` to completion, feeding `input` to its stdin. */
export async function runScript(
  script: string,
  args: string[],
  options: RunOptions = {},
): Promise<Output> {
  if (options.viaFiles && IS_WINDOWS) return await runViaFiles(script, args, options);
  const { input, viaFiles: _, user, ...rest } = options;
  const stdin = input === undefined ? rest.stdin : "piped";
  await using proc = user === undefined
    ? Proc.script(script, args, { ...rest, stdin })
    : user.spawn(script, args, { ...rest, stdin });
  // Written concurrently with reading the output, so large inputs cannot deadlock.
  const writing = input === undefined ? Promise.resolve() : proc.write(input).catch(() => {});
  // A hung process fails its test (through the exit status) instead of hanging the suite.
  let hung = false;
  const guard = setTimeout(() => {
    hung = true;
    proc.kill("SIGKILL");
  }, FAILSAFE_MS);
  try {
    const [output] = await Promise.all([proc.output(), writing]);
    if (hung) output.stderr += `\n[killed by the test: still running after ${FAILSAFE_MS} ms]`;
    return output;
  } finally {
    clearTimeout(guard);
  }
}

/** A background writer of numbered lines; see {@linkcode feedNumberedLines}. */
export interface Feeder {
  /** Stops writing and resolves once the last write has settled. */
  stop(): Promise<void>;
}

/**
 * Writes `m0`, `m1`, … to `proc`'s stdin, 50 lines a write, until stopped or until the process
 * stops reading, so that it is still sending when something happens to its server.
 */
export function feedNumberedLines(proc: Proc): Feeder {
  let feeding = true;
  const done = (async () => {
    for (let batch = 0; feeding; batch++) {
      const lines = Array.from({ length: 50 }, (_, i) => `m${batch * 50 + i}\n`).join("");
      try {
        await proc.write(lines);
      } catch {
        return; // The process exited.
      }
    }
  })();
  return {
    stop() {
      feeding = false;
      return done;
    },
  };
}

/** Writes the lines `1` to `count` to `stdin` (as `seq` does), 10,000 a write, then closes it. */
export async function writeSeq(stdin: WritableStream<Uint8Array>, count: number): Promise<void> {
  const writer = stdin.getWriter();
  for (let start = 1; start <= count; start += 10_000) {
    const end = Math.min(start + 10_000, count + 1);
    const batch = Array.from({ length: end - start }, (_, i) => `${start + i}\n`).join("");
    await writer.write(encoder.encode(batch));
  }
  await writer.close();
}

/** Runs `client.ts ARGS…` to completion. */
export function runClient(args: string[], options: RunOptions = {}): Promise<Output> {
  return runScript(CLIENT_SCRIPT, args, options);
}

/** Runs `server.ts ARGS…` to completion (for `--help`, usage errors, refusals). */
export function runServer(args: string[], options: RunOptions = {}): Promise<Output> {
  return runScript(SERVER_SCRIPT, args, options);
}

/** The JSON objects printed one per line in `output`. */
export function jsonLines(output: Output): Record<string, unknown>[] {
  return output.lines.filter((line) => line !== "").map((line) => JSON.parse(line));
}

/**
 * Whether `bytes` holds a control byte other than `\n` (C0, ESC, DEL): raw payload bytes or
 * colour codes leaking into output meant for a terminal or a pipe.
 */
export function hasRawControlBytes(bytes: Uint8Array): boolean {
  return bytes.some((b) => (b < 0x20 && b !== 0x0a) || b === 0x7f);
}
