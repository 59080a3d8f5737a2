/**
 * Unix domain socket transport, through `Deno.listen` and `Deno.connect`.
 *
 * @module
 */

import {
  AddressInUseError,
  ConnectionClosedError,
  ConnectTimeoutError,
  DuctError,
  InvalidNameError,
  PermissionDeniedError,
  UnsafePathError,
} from "../errors.ts";
import type {
  ByteConn,
  ByteListener,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
} from "../transport.ts";
import { retryUntil } from "../retry.ts";

/** Owner-only directory: rwx for the user. */
const PRIVATE_DIRECTORY_MODE = 0o700;
/** Owner-only socket: rw for the user. */
const PRIVATE_SOCKET_MODE = 0o600;
/** Anyone may connect (`--allow-others`). */
const SHARED_SOCKET_MODE = 0o666;
/** Directory that others may traverse but not list or write (`--allow-others`). */
const SHARED_DIRECTORY_MODE = 0o711;
/** The bit that lets other users enter a directory (search permission for "others"). */
const OTHERS_SEARCH = 0o001;

/**
 * The Unix transport: sockets in a private directory, stale sockets reclaimed, a live server
 * never displaced.
 *
 * @example
 * ```ts ignore
 * import { unixTransport } from "./transport.ts";
 * const listener = await unixTransport.listen({ name: "demo", path: "/tmp/demo.sock" });
 * listener.close();
 * ```
 */
export const unixTransport: Transport = {
  messageMode: false,
  listen: listenUnix,
  connect: connectUnix,
};

async function listenUnix(options: TransportListenOptions): Promise<ByteListener> {
  try {
    return await bindUnix(options);
  } catch (error) {
    throw mapError(error, options.path);
  }
}

async function bindUnix(options: TransportListenOptions): Promise<ByteListener> {
  const { path, name } = options;
  await prepareDirectory(directoryOf(path), options);
  await reclaimStale(path, name);
  let listener: Deno.UnixListener;
  // Born owner-only: with a lax umask the socket would otherwise be open to every local user
  // until the chmod below, in a directory that others may reach (one the user chose).
  const restoreUmask = ownerOnlyUmask();
  try {
    listener = Deno.listen({ transport: "unix", path });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new AddressInUseError(`another server is already listening on ${name}`);
    }
    throw mapError(error, path);
  } finally {
    restoreUmask();
  }
  await Deno.chmod(path, options.allowOthers ? SHARED_SOCKET_MODE : PRIVATE_SOCKET_MODE);
  const identity = await Deno.lstat(path);
  const limit = options.maxClients ?? Infinity;
  // Connections handed out and not yet closed (counted only under a limit).
  let live = 0;
  // Accepts waiting for a place to free, woken one per release (all on close).
  const waiting: (() => void)[] = [];
  const release = () => {
    live--;
    waiting.shift()?.();
  };
  let closed = false;
  const closedError = () => new ConnectionClosedError("cannot accept: the listener is closed");
  return {
    async accept(): Promise<ByteConn> {
      // At the limit, stop accepting: new clients wait in the kernel's accept queue, as extra
      // clients of a Windows pipe wait for a free instance, and are served as places free.
      while (live >= limit) {
        if (closed) throw closedError();
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      if (closed) throw closedError();
      if (limit === Infinity) return await listener.accept();
      live++;
      try {
        return counted(await listener.accept(), release);
      } catch (error) {
        release();
        throw error;
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      listener.close();
      for (const wake of waiting.splice(0)) wake();
      // Remove the socket file only if it is still ours, not a successor's.
      try {
        const now = Deno.lstatSync(path);
        if (now.ino === identity.ino && now.dev === identity.dev) Deno.removeSync(path);
      } catch {
        // Already gone.
      }
    },
  };
}

// `conn`, calling `release` once when it is closed: its place under `maxClients` is then free.
function counted(conn: Deno.UnixConn, release: () => void): ByteConn {
  let released = false;
  return {
    read: (buffer) => conn.read(buffer),
    write: (data) => conn.write(data),
    closeWrite: () => conn.closeWrite(),
    close() {
      if (!released) {
        released = true;
        release();
      }
      conn.close();
    },
  };
}

function connectUnix(options: TransportConnectOptions): Promise<ByteConn> {
  const { path, name } = options;
  const checked = options.trustServer !== "any";
  return retryUntil(async () => {
    try {
      // Checked before connecting, so that nothing reaches a foreign socket.
      const before = checked ? await ownerChecked(path, name) : undefined;
      const conn = await Deno.connect({ transport: "unix", path });
      if (before === undefined) return conn;
      // Deno exposes no SO_PEERCRED, so the file is checked again: had it been replaced while
      // connecting, this connection may be to the replacement; drop it and look again.
      const after = await Deno.stat(path).catch(() => undefined);
      if (after?.ino === before.ino && after.dev === before.dev) return conn;
      conn.close();
      return undefined;
    } catch (error) {
      // Absent, not yet listening, busy (its accept queue is full, `EAGAIN`), or gone while
      // this connection was being set up (`ECONNRESET`, as when a server is killed right then):
      // each may change soon, so try again.
      const absent = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.WouldBlock ||
        error instanceof Deno.errors.ConnectionReset;
      if (absent) return undefined;
      if (error instanceof Deno.errors.PermissionDenied) {
        // Waiting cannot help: the socket or its directory belongs to another user.
        throw new PermissionDeniedError(`permission denied on ${path}: ${deniedWhy(path)}`, {
          cause: error,
        });
      }
      throw mapError(error, path);
    }
  }, {
    timeout: options.timeout,
    signal: options.signal,
    timedOut: () => new ConnectTimeoutError(`no server is listening on ${name} (${path})`),
  });
}

// The socket file at `path` (followed through links, as `connect` follows them), refused unless
// it belongs to this user or root: another local user may create a socket at a path in a
// directory it can write to (a shared one such as /tmp, or `/tmp/duct-UID` made before duct
// made it), and would then receive everything sent to it. Root may read it all anyway.
async function ownerChecked(path: string, name: string): Promise<Deno.FileInfo> {
  const info = await Deno.stat(path);
  const uid = Deno.uid();
  if (uid === null || info.uid === uid || info.uid === ROOT_UID || info.uid === null) return info;
  throw new PermissionDeniedError(
    `the endpoint ${name} (${path}) is owned by ${await userName(info.uid)}, not by you; ` +
      `nothing was sent (connect with trustServer "any" if you trust that user's server)`,
  );
}

/** The superuser, whose endpoints are trusted like the user's own. */
const ROOT_UID = 0;

// `name (uid N)` from /etc/passwd when it can be read, else `user N`.
async function userName(uid: number): Promise<string> {
  try {
    const passwd = await Deno.readTextFile("/etc/passwd");
    const entry = passwd.split("\n").map((line) => line.split(":")).find((fields) =>
      fields[2] === String(uid)
    );
    if (entry !== undefined) return `${entry[0]} (uid ${uid})`;
  } catch {
    // No permission (the compiled client reads only its socket directories) or no such file.
  }
  return `user ${uid}`;
}

// Why connecting was refused, told apart so that a server already started with allowOthers is
// not told to use it: a directory on the way that this user cannot enter, or the socket's mode.
function deniedWhy(path: string): string {
  const closed = closedDirectory(path);
  if (closed === undefined) {
    return "the server belongs to another user and does not let others connect (its socket's " +
      "mode); that user must start it with allowOthers";
  }
  return `you cannot enter ${closed}; the server's user must put the socket in a directory ` +
    `other users can enter, and start the server with allowOthers`;
}

// The directory above `path` that this user cannot enter, if that is why `path` is out of
// reach; `undefined` when the socket itself can be seen (its own mode refused the connection),
// or when this process may not look (narrowed Deno permissions).
function closedDirectory(path: string): string | undefined {
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

// Sets a umask under which new files are owner-only, and returns how to put the old one back.
// The umask is process-wide, so it is held only around one synchronous call. Without
// `--allow-sys` it stays as it is, and the chmod after binding is the only guard.
function ownerOnlyUmask(): () => void {
  let previous: number;
  try {
    previous = Deno.umask(0o177);
  } catch {
    return () => {};
  }
  return () => void Deno.umask(previous);
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

// The directory must be a real directory owned by this user; duct's own directory is created
// private (its parent must exist: only duct's directory is created), and an existing one is
// given the mode its sockets need.
async function prepareDirectory(
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

// A socket file nobody answers on is left over from a crashed server: remove it. Anything that
// is not a socket is left alone.
async function reclaimStale(path: string, name: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw mapError(error, path);
  }
  // lstat does not follow links: a link planted at the path is refused, never followed to
  // whatever it points at (which could be another user's socket or file).
  if (info.isSymlink) {
    throw new UnsafePathError(
      `refusing ${path}: it is a symbolic link, which duct never follows or replaces; choose ` +
        `another name`,
    );
  }
  // Never suggest removing it: it is not duct's to remove (`/etc/passwd`, say).
  if (!info.isSocket) {
    throw new UnsafePathError(
      `refusing ${path}: it exists and is not a socket, and duct never replaces it; choose ` +
        `another name`,
    );
  }
  const uid = Deno.uid();
  if (uid !== null && info.uid !== uid) {
    throw new UnsafePathError(
      `refusing ${path}: the socket belongs to user ${info.uid}, not to you (${uid})`,
    );
  }
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
    throw new AddressInUseError(`another server is already listening on ${name}`);
  } catch (error) {
    if (error instanceof AddressInUseError) throw error;
    // A full accept queue means a live (busy) server too.
    if (error instanceof Deno.errors.WouldBlock) {
      throw new AddressInUseError(`another server is already listening on ${name}`);
    }
    if (!(error instanceof Deno.errors.ConnectionRefused)) throw mapError(error, path);
  }
  await Deno.remove(path);
}

// The operating system's error as a DuctError naming the path. Deno's own permission error
// (`NotCapable`, a missing --allow-* flag) is passed on: it already names the flag to add.
function mapError(error: unknown, path: string): unknown {
  if (error instanceof Deno.errors.PermissionDenied) {
    return new PermissionDeniedError(`permission denied on ${path}`, { cause: error });
  }
  if (error instanceof DuctError || error instanceof Deno.errors.NotCapable) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DuctError(`cannot use ${path}: ${detail}`, { cause: error });
}
