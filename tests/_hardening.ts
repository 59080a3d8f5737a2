/**
 * Helpers of the hardening tests: `server.ts` and `client.ts` as real subprocesses whose output
 * events the tests wait on, raw byte peers (a Unix socket, or on Windows the library's own pipe
 * transport), process statistics (`/proc` on Linux, the handle table on Windows), and a throwaway
 * second local user.
 *
 * Synchronisation is by events: a test waits until the server has printed what it expects
 * ({@linkcode ServerProcess.until}). The only time limits are failsafes that turn a hang into a
 * failure with a readable message.
 *
 * @module
 */

import { assert } from "./_assert.ts";
import { uniqueName } from "./_cli.ts";
import { type ByteConn, concat, platformTransport } from "../lib/mod.ts";

/** The repository root (with a trailing slash). */
export const ROOT: string = new URL("..", import.meta.url).pathname;
/** `server.ts`, as a file URL: `deno run` takes one on every OS (`ROOT` is no Windows path). */
export const SERVER: string = new URL("../server.ts", import.meta.url).href;
/** `client.ts`, as a file URL. */
export const CLIENT: string = new URL("../client.ts", import.meta.url).href;
/** Unix-only tests are ignored on Windows (and under Wine). */
export const NOT_UNIX: boolean = Deno.build.os === "windows";
/** Windows (named pipes; under Wine on Linux machines). */
export const IS_WINDOWS: boolean = Deno.build.os === "windows";
/** Tests that read `/proc` run on Linux only. */
export const NOT_LINUX: boolean = Deno.build.os !== "linux";
/** A hang becomes a failure after this long (a failsafe, never a synchronisation). */
export const FAILSAFE_MS = 90_000;

const decoder = new TextDecoder();

/** One JSON line of `server.ts --json`; in human mode the kind, client and `line` only. */
export interface ServerEvent {
  event: string;
  client?: number;
  bytes?: number;
  text?: string;
  base64?: string;
  message?: string;
  name?: string;
  path?: string;
  line?: string;
}

/** Lines past this size are not parsed whole: their leading fields are taken with a pattern. */
const HUGE_LINE = 64 * 1024;

function parseEvent(line: string, json: boolean): ServerEvent {
  if (!json) {
    // Human output, recognised well enough to count events: `client 3 connected`, `client 3: hi`.
    const match = /^client (\d+)(:| (connected|disconnected|error|refused))/.exec(line);
    if (match === null) return { event: "line", line };
    const event = match[2] === ":" ? "message" : match[3];
    return { event, client: Number(match[1]), line };
  }
  if (line.length <= HUGE_LINE) return JSON.parse(line);
  // A `message` event of a large payload: parsing megabytes of JSON per frame would make the
  // test, not the server, the bottleneck.
  const match = /^\{"event":"(\w+)","client":(\d+),"bytes":(\d+)/.exec(line);
  assert(match, `unexpected huge line: ${line.slice(0, 200)}`);
  return { event: match[1], client: Number(match[2]), bytes: Number(match[3]) };
}

/** Where a subprocess runs as another user. */
export interface RunAs {
  uid: number;
  gid: number;
}

/** Options of {@linkcode ServerProcess.start} and {@linkcode runClient}. */
export interface SpawnOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Parse stdout as JSON events (adds `--json`). Default `true`. */
  json?: boolean;
  /** Wait for the `listening` event. Default `true`. */
  waitListening?: boolean;
  /** Options for `deno run` itself, such as `--preload`. */
  denoArgs?: string[];
  /** Run under this umask (through `/bin/sh`). */
  umask?: number;
}

/** A running `server.ts`, its output collected as events. */
export class ServerProcess {
  readonly child: Deno.ChildProcess;
  readonly events: ServerEvent[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  stderr = "";
  #exited = false;
  #wake: PromiseWithResolvers<void> = Promise.withResolvers();
  readonly #json: boolean;
  readonly #pumps: Promise<void>;

  private constructor(child: Deno.ChildProcess, json: boolean) {
    this.child = child;
    this.#json = json;
    this.#pumps = Promise.all([this.#readStdout(), this.#readStderr()]).then(() => {});
    this.status = child.status.then(async (status) => {
      await this.#pumps;
      this.#exited = true;
      this.#notify();
      return status;
    });
  }

  /** Starts `server.ts` with `args` and waits until it listens. */
  static async start(args: string[], options: SpawnOptions = {}): Promise<ServerProcess> {
    const json = options.json ?? true;
    const deno = [
      Deno.execPath(),
      "run",
      "--allow-all",
      ...options.denoArgs ?? [],
      SERVER,
      ...(json ? ["--json"] : []),
      ...args,
    ];
    // A umask is set by a shell that then becomes the server (same pid).
    const [program, ...programArgs] = options.umask === undefined ? deno : [
      "/bin/sh",
      "-c",
      `umask ${options.umask.toString(8).padStart(3, "0")}; exec "$@"`,
      "sh",
      ...deno,
    ];
    const child = new Deno.Command(program, {
      args: programArgs,
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new ServerProcess(child, json);
    if (options.waitListening ?? true) {
      try {
        await server.until(
          () => server.#json ? server.count("listening") > 0 : server.events.length > 0,
          "the server to listen",
        );
      } catch (error) {
        await server.stop();
        throw error;
      }
    }
    return server;
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** The socket path from the `listening` event. */
  get path(): string {
    if (!this.#json) {
      // Human output: `listening on NAME (PATH)`.
      const match = /^listening on .* \((.*)\)$/.exec(this.events[0]?.line ?? "");
      assert(match, "the server has not reported its path");
      return match[1];
    }
    const listening = this.events.find((event) => event.event === "listening");
    assert(listening?.path, "the server has not reported its path");
    return listening.path;
  }

  /** Whether the process has exited (and its output been read). */
  get exited(): boolean {
    return this.#exited;
  }

  /** The number of events of kind `event` (optionally of one client). */
  count(event: string, client?: number): number {
    let count = 0;
    for (const each of this.events) {
      if (each.event === event && (client === undefined || each.client === client)) count++;
    }
    return count;
  }

  /** The events of one client. */
  of(client: number): ServerEvent[] {
    return this.events.filter((event) => event.client === client);
  }

  /**
   * Resolves once `condition()` holds, re-checking after each output line; rejects if the server
   * exits first (or, as a failsafe, after {@linkcode FAILSAFE_MS}).
   */
  async until(condition: () => boolean, what: string): Promise<void> {
    const failsafe = Date.now() + FAILSAFE_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (!condition()) {
        if (this.#exited) {
          throw new Error(`the server exited before ${what}; stderr: ${this.stderr}`);
        }
        const left = failsafe - Date.now();
        if (left <= 0) throw new Error(`failsafe: still waiting for ${what}`);
        const expired = new Promise<void>((resolve) => timer = setTimeout(resolve, left));
        await Promise.race([this.#wake.promise, expired]);
        clearTimeout(timer);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` to the server (ignored if it is gone). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL as a failsafe) and waits for it. */
  async stop(): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), FAILSAFE_MS);
    try {
      return await this.status;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Same as {@linkcode ServerProcess.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = Promise.withResolvers();
    wake.resolve();
  }

  async #readStdout(): Promise<void> {
    let pending: Uint8Array[] = [];
    for await (const chunk of this.child.stdout) {
      let start = 0;
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, start)) {
        pending.push(chunk.subarray(start, i));
        const line = decoder.decode(concat(pending));
        pending = [];
        this.events.push(parseEvent(line, this.#json));
        start = i + 1;
      }
      if (start < chunk.length) pending.push(chunk.slice(start));
      this.#notify();
    }
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.child.stderr.pipeThrough(new TextDecoderStream())) {
      this.stderr += chunk;
      this.#notify();
    }
  }
}

/** What a finished client printed. */
export interface ClientResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runClient}. */
export interface ClientOptions {
  /** Bytes for stdin (default: none). */
  stdin?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Run as this user, through {@linkcode OtherUser.command}. */
  user?: OtherUser;
}

/** Runs `client.ts` with `args` to completion. */
export async function runClient(
  args: string[],
  options: ClientOptions = {},
): Promise<ClientResult> {
  const child = options.user
    ? options.user.command(["client.ts", ...args]).spawn()
    : new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", CLIENT, ...args],
      env: { NO_COLOR: "1", ...options.env },
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), FAILSAFE_MS);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const { code, stdout, stderr } = await child.output();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The endpoint of one test's server: a socket file in `dir` on Unix (a private temporary
 * directory of the test's own), a fresh plain pipe name on Windows.
 */
export function endpointIn(dir: string): string {
  return IS_WINDOWS ? uniqueName("hardening") : `${dir}/s.sock`;
}

/**
 * Connects a raw byte peer to `path`, to speak (or break) the protocol byte by byte: a plain
 * `Deno.connect` Unix socket, or on Windows the library's own pipe transport (below the framing:
 * bytes go out exactly as written, each write one pipe message, `closeWrite` the end of stream).
 */
export async function rawConnect(path: string): Promise<ByteConn> {
  if (!IS_WINDOWS) return await Deno.connect({ transport: "unix", path });
  const transport = await platformTransport();
  return await transport.connect({ name: path, path, timeout: 5000 });
}

/** A 4-byte big-endian length header. */
export function header(length: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, length);
  return out;
}

/** Reads until end of stream (a reset counts as the end); returns everything read. */
export async function readToEnd(conn: ByteConn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let count; (count = await conn.read(buffer)) !== null;) {
      parts.push(buffer.slice(0, count));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
  return parts.length === 0 ? new Uint8Array(0) : concat(parts);
}

/** Closes `conn`, ignoring a connection that is already closed. */
export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** The number of open file descriptors of process `pid`. */
export function fdCount(pid: number): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}

/** `SystemExtendedHandleInformation`: every handle of every process, with its owner and type. */
const SYSTEM_EXTENDED_HANDLE_INFORMATION = 64;
const STATUS_INFO_LENGTH_MISMATCH = 0xc0000004;
/** `SYSTEM_HANDLE_INFORMATION_EX`: two pointer-sized counts, then 40-byte entries. */
const HANDLE_TABLE_HEADER = 16;
const HANDLE_ENTRY_SIZE = 40;
/** Fields of an entry: `UniqueProcessId`, `HandleValue`, `ObjectTypeIndex`. */
const HANDLE_ENTRY_PID = 8;
const HANDLE_ENTRY_VALUE = 16;
const HANDLE_ENTRY_TYPE = 30;

const NTDLL = {
  NtQuerySystemInformation: { parameters: ["u32", "buffer", "u32", "buffer"], result: "u32" },
} as const;
const KERNEL32 = {
  CreateFileW: {
    parameters: ["buffer", "u32", "u32", "pointer", "u32", "u32", "pointer"],
    result: "pointer",
  },
  CloseHandle: { parameters: ["pointer"], result: "i32" },
} as const;
let ntdll: Deno.DynamicLibrary<typeof NTDLL>["symbols"] | undefined;
let fileType: number | undefined;

/** The handles of Windows process `pid`: each one's value and object type index. */
function handlesOf(pid: number): { value: bigint; type: number }[] {
  const symbols = ntdll ??= Deno.dlopen("ntdll.dll", NTDLL).symbols;
  for (let size = 1 << 20;; size *= 2) {
    const table = new Uint8Array(size);
    const status = symbols.NtQuerySystemInformation(
      SYSTEM_EXTENDED_HANDLE_INFORMATION,
      table,
      size,
      new Uint8Array(4),
    );
    if (status === STATUS_INFO_LENGTH_MISMATCH) continue;
    assert(status === 0, `NtQuerySystemInformation failed with status 0x${status.toString(16)}`);
    const view = new DataView(table.buffer);
    const entries = Number(view.getBigUint64(0, true));
    const handles = [];
    for (let i = 0; i < entries; i++) {
      const entry = HANDLE_TABLE_HEADER + i * HANDLE_ENTRY_SIZE;
      if (view.getBigUint64(entry + HANDLE_ENTRY_PID, true) !== BigInt(pid)) continue;
      handles.push({
        value: view.getBigUint64(entry + HANDLE_ENTRY_VALUE, true),
        type: view.getUint16(entry + HANDLE_ENTRY_TYPE, true),
      });
    }
    return handles;
  }
}

/** The object type index of files (pipe ends included), read off a file this process opens. */
function fileTypeIndex(): number {
  if (fileType !== undefined) return fileType;
  const kernel32 = Deno.dlopen("kernel32.dll", KERNEL32);
  try {
    const exe = Deno.execPath();
    // UTF-16 code units and a NUL: the LPCWSTR of CreateFileW.
    const path = Uint16Array.from({ length: exe.length + 1 }, (_, i) => exe.charCodeAt(i) || 0);
    // GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING.
    const handle = kernel32.symbols.CreateFileW(
      new Uint8Array(path.buffer),
      0x8000_0000,
      3,
      null,
      3,
      0,
      null,
    );
    const value = BigInt(Deno.UnsafePointer.value(handle));
    assert(value !== 0xffff_ffff_ffff_ffffn, `cannot open ${Deno.execPath()}`);
    try {
      const own = handlesOf(Deno.pid).find((each) => each.value === value);
      assert(own, "the handle just opened is missing from the handle table");
      return fileType = own.type;
    } finally {
      kernel32.symbols.CloseHandle(handle);
    }
  } finally {
    kernel32.close();
  }
}

/**
 * The number of files and pipe ends Windows process `pid` holds open, counted in the system's
 * handle table (`GetProcessHandleCount` is a stub under Wine that always answers 0). Other kinds
 * are left out on purpose: the runtime's thread pool grows under load, and each new thread adds
 * a thread handle (and under Wine one more internal object) that is no leak.
 */
export function fileHandleCount(pid: number): number {
  const file = fileTypeIndex();
  return handlesOf(pid).filter((each) => each.type === file).length;
}

/**
 * Whether {@linkcode openCount} works here: file descriptors on Linux (`/proc`), file handles on
 * Windows; not on macOS.
 */
export const CAN_COUNT_HANDLES: boolean = Deno.build.os === "linux" || IS_WINDOWS;

/** The number of open file descriptors (Linux) or file and pipe handles (Windows) of `pid`. */
export function openCount(pid: number): number {
  return IS_WINDOWS ? fileHandleCount(pid) : fdCount(pid);
}

/** A field of `/proc/PID/status` in bytes, such as `VmRSS`, `VmHWM` or `VmSize`. */
export function procStatus(pid: number, field: "VmRSS" | "VmHWM" | "VmSize"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  assert(match, `no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** A unique, private temporary directory; remove it with {@linkcode removeQuietly}. */
export function tempDir(label: string): Promise<string> {
  // Under /tmp on Unix: macOS's per-user $TMPDIR is long enough to push a socket path past
  // sun_path's 104 bytes.
  return Deno.makeTempDir({
    dir: Deno.build.os === "windows" ? undefined : "/tmp",
    prefix: `duct-${label}-`,
  });
}

/** Removes a path recursively, ignoring one that is gone. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch {
    // Already gone.
  }
}

/** Whether this process may create users (root with `useradd` and `setpriv`). */
export function canCreateUsers(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  for (const tool of ["/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/bin/setpriv"]) {
    try {
      Deno.statSync(tool);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * A throwaway local user, with a world-readable copy of the client's sources and of the Deno
 * binary (the originals may sit in directories that user cannot traverse).
 */
export class OtherUser implements AsyncDisposable {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Its home: the copies and its Deno cache live here. */
  readonly home: string;

  private constructor(name: string, uid: number, gid: number, home: string) {
    this.name = name;
    this.uid = uid;
    this.gid = gid;
    this.home = home;
  }

  /** Creates the user (root only: see {@linkcode canCreateUsers}). */
  static async create(): Promise<OtherUser> {
    const name = `duct${Deno.pid}${Math.floor(Math.random() * 1e6)}`.slice(0, 30);
    // useradd takes a lock on /etc/passwd; another test creating a user at the same moment makes
    // it fail with status 1 ("cannot lock"), so it is retried a few times.
    for (let attempt = 0;; attempt++) {
      const added = await new Deno.Command("/usr/sbin/useradd", {
        args: ["--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (added.success) break;
      if (attempt >= 20) throw new Error(`useradd failed: ${decoder.decode(added.stderr)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const home = await Deno.makeTempDir({ prefix: "duct-other-user-" });
    try {
      const id = (flag: string) =>
        new Deno.Command("id", { args: [flag, name], stdout: "piped" }).output()
          .then((out) => Number(decoder.decode(out.stdout).trim()));
      const uid = await id("-u");
      const gid = await id("-g");
      const sources = ["lib", "lib/unix", "lib/windows", "cli"];
      for (const dir of ["", "bin", "cache", ...sources]) {
        await Deno.mkdir(`${home}/${dir}`, { recursive: true });
        await Deno.chmod(`${home}/${dir}`, 0o755);
      }
      for (const dir of sources) {
        for (const entry of Deno.readDirSync(ROOT + dir)) {
          if (entry.isFile) {
            await Deno.copyFile(`${ROOT}${dir}/${entry.name}`, `${home}/${dir}/${entry.name}`);
          }
        }
      }
      for (const file of ["client.ts", "deno.json"]) {
        await Deno.copyFile(ROOT + file, `${home}/${file}`);
      }
      await Deno.copyFile(Deno.execPath(), `${home}/bin/deno`);
      await Deno.chmod(`${home}/bin/deno`, 0o755);
      await Deno.chown(`${home}/cache`, uid, gid);
      return new OtherUser(name, uid, gid, home);
    } catch (error) {
      await removeQuietly(home);
      await userdel(name);
      throw error;
    }
  }

  /** A command running `deno run -A ARGS` (paths relative to the copies) as this user. */
  command(args: string[]): Deno.Command {
    const [script, ...rest] = args;
    return new Deno.Command("/usr/bin/setpriv", {
      args: [
        `--reuid=${this.uid}`,
        `--regid=${this.gid}`,
        "--clear-groups",
        "--",
        `${this.home}/bin/deno`,
        "run",
        "--allow-all",
        `${this.home}/${script}`,
        ...rest,
      ],
      clearEnv: true,
      env: {
        PATH: "/usr/bin:/bin",
        HOME: `${this.home}/cache`,
        DENO_DIR: `${this.home}/cache`,
        NO_COLOR: "1",
      },
      cwd: this.home,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  }

  /** Deletes the user and its files. */
  async [Symbol.asyncDispose](): Promise<void> {
    await removeQuietly(this.home);
    await userdel(this.name);
  }
}

async function userdel(name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const deleted = await new Deno.Command("/usr/sbin/userdel", {
      args: [name],
      stdout: "null",
      stderr: "null",
    }).output();
    // 6: no such user (already gone).
    if (deleted.success || deleted.code === 6) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A running `client.ts` (or any Deno script) with piped stdin and its output collected. */
export class ClientProcess {
  readonly child: Deno.ChildProcess;
  readonly status: Promise<Deno.CommandStatus>;
  stdout = "";
  stderr = "";
  #exited = false;
  #wake: PromiseWithResolvers<void> = Promise.withResolvers();
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  /** Starts `deno run --allow-all [denoArgs] SCRIPT args` (the script defaults to the client). */
  constructor(args: string[], options: { denoArgs?: string[]; script?: string } = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", ...options.denoArgs ?? [], options.script ?? CLIENT, ...args],
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    const pump = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this[key] += chunk;
        this.#notify();
      }
    };
    const pumps = Promise.all([
      pump(this.child.stdout, "stdout"),
      pump(this.child.stderr, "stderr"),
    ]);
    const failsafe = setTimeout(() => this.kill("SIGKILL"), FAILSAFE_MS);
    this.status = this.child.status.then(async (status) => {
      clearTimeout(failsafe);
      await pumps;
      this.#exited = true;
      this.#notify();
      return status;
    });
  }

  /** Writes `text` to stdin; false if the process no longer reads it. */
  async write(text: string): Promise<boolean> {
    try {
      await this.#writer.write(new TextEncoder().encode(text));
      return true;
    } catch {
      return false;
    }
  }

  /** Closes stdin. */
  async closeStdin(): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // The process is gone.
    }
  }

  /** Resolves once `condition()` holds, re-checked on output; rejects if the process exits. */
  async until(condition: () => boolean, what: string): Promise<void> {
    while (!condition()) {
      if (this.#exited) {
        throw new Error(`the process exited before ${what}; stderr: ${this.stderr}`);
      }
      await this.#wake.promise;
    }
  }

  /** Sends `signal` (ignored if the process is gone). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** Kills the process if it still runs and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeStdin();
    this.kill("SIGKILL");
    await this.status;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = Promise.withResolvers();
    wake.resolve();
  }
}
