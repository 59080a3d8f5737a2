/**
 * A raw byte peer of a server, to speak (or break) the protocol byte by byte, below the framing:
 * a plain Unix socket, or on Windows the library's own pipe transport.
 *
 * @module
 */

import { type ByteConn, concat, platformTransport } from "../lib/mod.ts";
import { IS_WINDOWS } from "./_process.ts";

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

/** Writes all of `data`, however many writes it takes. */
export async function writeAll(conn: ByteConn, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += await conn.write(data.subarray(offset));
}
