/**
 * Windows named-pipe transport: `\\.\pipe\NAME` through `Deno.dlopen("kernel32.dll")`, with
 * overlapped I/O on one completion port (see `completion_port.ts`) and message-mode pipes, so that classic
 * Win32 peers reading one message per `ReadFile` interoperate in `nul` and `line` framing.
 *
 * @module
 */

import { AddressInUseError, ConnectionClosedError, ConnectTimeoutError } from "../errors.ts";
import { completionPort } from "./completion_port.ts";
import { ntListen } from "./nt_io.ts";
import type {
  ByteConn,
  ByteListener,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
} from "../transport.ts";
import {
  ERROR_ACCESS_DENIED,
  ERROR_ALREADY_EXISTS,
  ERROR_FILE_NOT_FOUND,
  ERROR_NO_DATA,
  ERROR_PIPE_BUSY,
  ERROR_PIPE_CONNECTED,
  ERROR_SUCCESS,
  FILE_FLAG_FIRST_PIPE_INSTANCE,
  FILE_WRITE_ATTRIBUTES,
  FILE_WRITE_DATA,
  GENERIC_READ,
  isInvalidHandle,
  kernel32Symbols,
  PIPE_MAX_INSTANCES,
  PIPE_UNLIMITED_INSTANCES,
  wideString,
} from "./ffi.ts";
import { describeCode, win32Error } from "./errors.ts";
import { PipeConn } from "./pipe.ts";
import { checkPipeOwner } from "./owner.ts";
import { openPipeClient } from "./pipe_open.ts";
import { PIPE_MODE, PIPE_OPEN_MODE, setMessageReadMode } from "./pipe_mode.ts";
import { handleCtrlC } from "./console.ts";
import { retryUntil } from "../retry.ts";
import { type PipeSecurity, pipeSecurity } from "./security.ts";

/** Bytes the pipe buffers in each direction; longer messages wait for the reader. */
export const PIPE_BUFFER_SIZE = 64 * 1024;
/** `nDefaultTimeOut` 0: clients calling `WaitNamedPipe` with the default wait 50 ms. */
const DEFAULT_TIMEOUT = 0;

// Exactly what a client needs: read, write, and FILE_WRITE_ATTRIBUTES for SetNamedPipeHandleState.
// Not GENERIC_WRITE: its FILE_APPEND_DATA (FILE_CREATE_PIPE_INSTANCE) is not granted to other
// users (security.ts), so asking for it would be refused under --allow-others.
// Opened overlapped, with SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION (pipe_open.ts).
// `>>> 0`: GENERIC_READ has the top bit set, and FFI wants an unsigned value.
const CLIENT_ACCESS = (GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES) >>> 0;

/**
 * The Windows transport.
 *
 * @example
 * ```ts ignore
 * import { windowsTransport } from "./transport.ts";
 * const listener = await windowsTransport.listen({ name: "demo", path: "\\\\.\\pipe\\demo" });
 * const conn = await listener.accept();
 * conn.close();
 * listener.close();
 * ```
 */
export const windowsTransport: Transport = {
  messageMode: true,
  listen: listenPipe,
  connect: connectPipe,
};

type Created = { handle: Deno.PointerValue; error?: undefined } | { error: number };

// Creates one pipe instance. Every instance is created before the previous one is handed over,
// so clients never find the server between instances.
function createInstance(
  path: Uint8Array,
  first: boolean,
  maxInstances: number,
  security: PipeSecurity,
): Created {
  const kernel32 = kernel32Symbols();
  // Wine reports a second "first" instance as success with ERROR_ALREADY_EXISTS as the last
  // error, so the last error must not be left over from an earlier call.
  kernel32.SetLastError(ERROR_SUCCESS);
  const handle = kernel32.CreateNamedPipeW(
    path,
    first ? PIPE_OPEN_MODE | FILE_FLAG_FIRST_PIPE_INSTANCE : PIPE_OPEN_MODE,
    PIPE_MODE,
    maxInstances,
    PIPE_BUFFER_SIZE,
    PIPE_BUFFER_SIZE,
    DEFAULT_TIMEOUT,
    security.attributes,
  );
  const error = kernel32.GetLastError();
  if (isInvalidHandle(handle)) return { error };
  if (first && error === ERROR_ALREADY_EXISTS) {
    kernel32.CloseHandle(handle);
    return { error };
  }
  return { handle };
}

/** Instances kept waiting for clients at once, so a burst finds one free (libuv keeps 4 too). */
export const PENDING_INSTANCES = 4;
/** How often a listener that found every instance busy tries again. */
const BUSY_RETRY_MS = 50;
/** How long every instance may stay busy while this server holds none before it gives up. */
const BUSY_GIVE_UP_MS = 5_000;
/** What `CreateNamedPipeW` answers when the name is not ours (Windows, Wine, instance limit). */
const NAME_TAKEN = [ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_PIPE_BUSY];

function listenPipe(options: TransportListenOptions): Promise<ByteListener> {
  const { name, path } = options;
  const maxClients = options.maxClients;
  // One more than the clients: the next instance is created while a closing one still exists.
  const maxInstances = maxClients !== undefined && maxClients < PIPE_MAX_INSTANCES
    ? maxClients + 1
    : PIPE_UNLIMITED_INSTANCES;
  const security = pipeSecurity(options.allowOthers ?? false);
  const widePath = wideString(path);
  const created = createInstance(widePath, true, maxInstances, security);
  // A server must stop on Ctrl+C even when started in a new process group (console.ts).
  if (created.error === undefined) handleCtrlC();
  if (created.error !== undefined) {
    security.free();
    // Windows refuses FILE_FLAG_FIRST_PIPE_INSTANCE with ERROR_ACCESS_DENIED; Wine lets it
    // through with ERROR_ALREADY_EXISTS, or answers ERROR_PIPE_BUSY when that server's instance
    // limit is reached. Either way someone already serves this name.
    if (NAME_TAKEN.includes(created.error)) {
      return Promise.reject(
        new AddressInUseError(`another server is already listening on ${name}`),
      );
    }
    return Promise.reject(win32Error(created.error, `cannot listen on ${path}`, path));
  }
  const listener = new PipeListener({ widePath, name, path, maxInstances, maxClients, security });
  listener.arm(created.handle);
  listener.fill();
  return Promise.resolve(listener);
}

interface PipeListenerOptions {
  widePath: Uint8Array;
  name: string;
  path: string;
  maxInstances: number;
  maxClients: number | undefined;
  security: PipeSecurity;
}

/**
 * Hands out connected pipe instances, keeping up to {@linkcode PENDING_INSTANCES} waiting for the
 * next clients (fewer near `maxClients`), so that a burst of classic clients that do not call
 * `WaitNamedPipe` finds an instance rather than `ERROR_PIPE_BUSY`.
 *
 * The name stays ours for the listener's life: some instance of ours is always open, because
 * a connection's instance is replaced before its handle closes (at `maxClients` nothing else may
 * be open; hence the instance limit of `maxClients + 1`). Should none be open all the same (after
 * a failure to create one), the next is created with `FILE_FLAG_FIRST_PIPE_INSTANCE`, so that a
 * process that took the name is detected rather than joined.
 */
class PipeListener implements ByteListener {
  readonly #widePath: Uint8Array;
  readonly #name: string;
  readonly #path: string;
  readonly #maxInstances: number;
  readonly #maxClients: number;
  readonly #security: PipeSecurity;
  readonly #ready: PipeConn[] = [];
  readonly #waiters: PromiseWithResolvers<ByteConn>[] = [];
  // Instances with a listen (ConnectNamedPipe) outstanding.
  readonly #pending = new Set<Deno.PointerValue>();
  // Connections handed out (or ready to be) whose handles are still open.
  #live = 0;
  // Set while a connection's handle is about to close: it still holds the name.
  #replacing = false;
  #failure: Error | undefined;
  #closed = false;
  // Set while every instance is busy and nothing of ours is pending: the retry, and since when.
  #retry: ReturnType<typeof setTimeout> | undefined;
  #busySince: number | undefined;

  constructor(options: PipeListenerOptions) {
    this.#widePath = options.widePath;
    this.#name = options.name;
    this.#path = options.path;
    this.#maxInstances = options.maxInstances;
    this.#maxClients = options.maxClients ?? Infinity;
    this.#security = options.security;
  }

  accept(): Promise<ByteConn> {
    if (this.#closed) {
      return Promise.reject(new ConnectionClosedError("cannot accept: the listener is closed"));
    }
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const waiter = Promise.withResolvers<ByteConn>();
    this.#waiters.push(waiter);
    return waiter.promise;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    // The waiting instances are closed at once, so the name is free when close returns. That is
    // safe here: a listen has no data buffer, and its OVERLAPPED stays reserved in the port until
    // the cancelled completion arrives (in #connected, which then closes nothing).
    const kernel32 = kernel32Symbols();
    for (const handle of this.#pending) {
      kernel32.CancelIoEx(handle, null);
      kernel32.CloseHandle(handle);
    }
    this.#pending.clear();
    for (const conn of this.#ready.splice(0)) conn.close();
    const closed = new ConnectionClosedError("cannot accept: the listener is closed");
    for (const waiter of this.#waiters.splice(0)) waiter.reject(closed);
    this.#security.free();
  }

  /** Waits for a client on `handle`, a fresh instance. */
  arm(handle: Deno.PointerValue): void {
    const port = completionPort();
    try {
      port.associate(handle);
    } catch (error) {
      kernel32Symbols().CloseHandle(handle);
      this.#fail(error as Error);
      return;
    }
    this.#pending.add(handle);
    port.submit(ntListen(handle)).then(({ error }) => this.#connected(handle, error));
  }

  /** Creates and arms instances until enough wait, or the client limit is reached. */
  fill(): void {
    while (
      !this.#closed && this.#failure === undefined && this.#retry === undefined &&
      this.#pending.size < PENDING_INSTANCES && this.#live + this.#pending.size < this.#maxClients
    ) {
      const first = this.#live + this.#pending.size === 0 && !this.#replacing;
      const created = createInstance(this.#widePath, first, this.#maxInstances, this.#security);
      if (created.error === undefined) {
        this.#busySince = undefined;
        this.arm(created.handle);
      } else if (first && created.error !== ERROR_PIPE_BUSY && NAME_TAKEN.includes(created.error)) {
        this.#fail(
          new AddressInUseError(
            `cannot create a pipe instance of ${this.#name}: the name is no longer this ` +
              `server's (another process took it while this server had no instance open)`,
          ),
        );
      } else if (created.error === ERROR_PIPE_BUSY) {
        this.#busy();
        return;
      } else {
        this.#fail(win32Error(created.error, `cannot create a pipe instance of ${this.#path}`));
      }
    }
  }

  // Every instance is in use: the limit counts handles still closing, and instances another
  // process of this user created. With some of ours pending, the next release retries; with none,
  // a timer does, and gives up with a clear error if this server holds no connection either (no
  // release will ever come).
  #busy(): void {
    if (this.#pending.size > 0) return;
    const now = Date.now();
    this.#busySince ??= now;
    if (this.#live === 0 && now - this.#busySince >= BUSY_GIVE_UP_MS) {
      this.#fail(
        win32Error(
          ERROR_PIPE_BUSY,
          `cannot create a pipe instance of ${this.#path}: every instance has been busy for ` +
            `${BUSY_GIVE_UP_MS / 1000} s though this server holds none; another process is ` +
            `holding instances of this name`,
        ),
      );
      return;
    }
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.fill();
    }, BUSY_RETRY_MS);
  }

  #connected(handle: Deno.PointerValue, error: number): void {
    // Closed: `close` has already closed this instance.
    if (this.#closed) return;
    this.#pending.delete(handle);
    const kernel32 = kernel32Symbols();
    // ERROR_PIPE_CONNECTED: the client came before the listen; that is a success too.
    // ERROR_NO_DATA: it came and has already closed its end, but what it wrote is still in the
    // pipe: served like any other client, its reads end once that is read (never dropped unread).
    if (error === ERROR_SUCCESS || error === ERROR_PIPE_CONNECTED || error === ERROR_NO_DATA) {
      this.#live++;
      const conn = new PipeConn(handle, () => this.#released());
      this.fill();
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter.resolve(conn);
      else this.#ready.push(conn);
      return;
    }
    kernel32.CloseHandle(handle);
    this.#fail(win32Error(error, `cannot wait for clients on ${this.#path}`, this.#path));
  }

  // Runs just before a connection's handle closes.
  #released(): void {
    this.#live--;
    this.#replacing = true;
    try {
      this.fill();
    } finally {
      this.#replacing = false;
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}

function connectPipe(options: TransportConnectOptions): Promise<ByteConn> {
  const { name, path } = options;
  let lastError = ERROR_SUCCESS;
  return retryUntil(() => {
    // NtCreateFile, for a status that no later call can overwrite (pipe_open.ts).
    const opened = openPipeClient(path, CLIENT_ACCESS);
    if (opened.error === undefined) return Promise.resolve(openClient(opened.handle, options));
    const { error } = opened;
    // Absent (no such pipe) or busy (every instance taken): both may change soon, so retry.
    if (error !== ERROR_FILE_NOT_FOUND && error !== ERROR_PIPE_BUSY) {
      throw win32Error(error, `cannot connect to ${name} (${path})`, path);
    }
    lastError = error;
    return Promise.resolve(undefined);
  }, {
    timeout: options.timeout,
    signal: options.signal,
    // ERROR_PIPE_BUSY: a server exists but every instance is taken (its --max-clients).
    timedOut: () =>
      new ConnectTimeoutError(
        lastError === ERROR_PIPE_BUSY
          ? `the server on ${name} (${path}) is full: every pipe instance stayed taken ` +
            `(is it at its maxClients limit?)`
          : `no server is listening on ${name} (${path})`,
        { cause: new Error(`the last attempt failed with ${describeCode(lastError)}`) },
      ),
  });
}

function openClient(handle: Deno.PointerValue, options: TransportConnectOptions): ByteConn {
  const { name, path } = options;
  const kernel32 = kernel32Symbols();
  try {
    // Before anything is sent: whoever created the name first gets the connection (owner.ts).
    if (options.trustServer !== "any") checkPipeOwner(handle, name, path);
  } catch (error) {
    kernel32.CloseHandle(handle);
    throw error;
  }
  // A client end starts in byte read mode; message mode keeps one reply per read.
  const error = setMessageReadMode(handle);
  if (error !== ERROR_SUCCESS) {
    kernel32.CloseHandle(handle);
    throw win32Error(error, `cannot switch ${path} to message mode`, path);
  }
  try {
    completionPort().associate(handle);
  } catch (error) {
    kernel32.CloseHandle(handle);
    throw error;
  }
  return new PipeConn(handle);
}
