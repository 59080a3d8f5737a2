/**
 * Output shared by both CLIs: a batching line writer and safe renderings of payloads.
 *
 * @module
 */

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Bytes queued for stdout past which callers are asked to wait (backpressure). */
const HIGH_WATER = 1024 * 1024;

/** A writable byte sink such as `Deno.stdout`. */
export interface Sink {
  write(data: Uint8Array): Promise<number>;
}

/**
 * Writes lines in order, merging lines queued in the same task into one write. Each `line`
 * promise settles once that line has been handed to the operating system.
 *
 * @example
 * ```ts
 * import { LineWriter } from "./output.ts";
 * const out = new LineWriter(Deno.stdout);
 * await out.line("hello");
 * ```
 */
export class LineWriter {
  readonly #sink: Sink;
  #queue: string[] = [];
  #queued = 0;
  #waiters: PromiseWithResolvers<void> | undefined;
  #writing: Promise<void> | undefined;

  /** Writes to `sink`. */
  constructor(sink: Sink) {
    this.#sink = sink;
  }

  /** Whether callers should wait for the promise of their last line before queueing more. */
  get congested(): boolean {
    return this.#queued > HIGH_WATER;
  }

  /** Queues one line (a newline is added); settles once it is written. */
  line(text: string): Promise<void> {
    this.#queue.push(text);
    this.#queued += text.length + 1;
    const waiters = this.#waiters ??= Promise.withResolvers<void>();
    this.#writing ??= Promise.resolve().then(() => this.#drain());
    return waiters.promise;
  }

  /** Settles once every queued line is written. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const lines = this.#queue;
      const waiters = this.#waiters!;
      this.#queue = [];
      this.#waiters = undefined;
      const data = encoder.encode(lines.join("\n") + "\n");
      try {
        for (let offset = 0; offset < data.length;) {
          offset += await this.#sink.write(data.subarray(offset));
        }
        waiters.resolve();
      } catch (error) {
        waiters.reject(error);
      }
      this.#queued -= data.length;
    }
    this.#writing = undefined;
  }
}

/**
 * Renders a payload for a human: valid UTF-8 is shown as text with control characters escaped;
 * anything else byte by byte, printable ASCII as is and the rest as `\xNN`.
 *
 * @example
 * ```ts
 * import { displayPayload } from "./output.ts";
 * console.log(displayPayload(Uint8Array.of(104, 105, 0xff))); // hi\xff
 * ```
 */
export function displayPayload(payload: Uint8Array): string {
  const text = decodeUtf8(payload);
  if (text !== undefined) return text.replace(CONTROL, escapeChar);
  let out = "";
  for (const byte of payload) {
    out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c
      ? String.fromCharCode(byte)
      : byte === 0x5c
      ? "\\\\"
      : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

// C0 controls, DEL, C1 controls, the backslash (so escapes stay unambiguous), and the Unicode
// line and paragraph separators.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f\\\u2028\u2029]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  return NAMED[char] ??
    (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`);
}

/**
 * The payload fields of a JSON event: `{ text }` for valid UTF-8, else `{ base64 }`.
 *
 * @example
 * ```ts
 * import { payloadFields } from "./output.ts";
 * console.log(payloadFields(Uint8Array.of(0xff))); // { base64: "/w==" }
 * ```
 */
export function payloadFields(payload: Uint8Array): { text: string } | { base64: string } {
  const text = decodeUtf8(payload);
  return text !== undefined ? { text } : { base64: toBase64(payload) };
}

function decodeUtf8(payload: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(payload);
  } catch {
    return undefined;
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Prints a one-line error to stderr and returns the exit status to use.
 *
 * @example
 * ```ts
 * import { reportError } from "./output.ts";
 * const status = reportError("duct-client", "no server", 2);
 * console.log(status); // 2
 * ```
 */
export function reportError(program: string, message: string, status: number): number {
  const line = `${program}: error: ${message.replaceAll("\n", " ")}\n`;
  Deno.stderr.writeSync(encoder.encode(line));
  return status;
}
