/**
 * Unix domain socket transport, through `Deno.listen` and `Deno.connect`.
 *
 * @module
 */

import {
  AddressInUseError,
  ConnectionClosedError,
  ConnectTimeoutError,
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
import {
  closedDirectory,
  directoryOf,
  mapError,
  ownerOnlyUmask,
  prepareDirectory,
} from "./directory.ts";

/** Owner-only socket: rw for the user. */
const PRIVATE_SOCKET_MODE = 0o600;
/** Anyone may connect (`--allow-others`). */
const SHARED_SOCKET_MODE = 0o666;

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
