/**
 * The client's input: stdin cut into lines, a chunk's worth at a time, so that the cost of a
 * line is a copy of its bytes and not a promise or stream round trip of its own. Lines are cut
 * as they are taken, not gathered first: each is garbage once sent, so V8's young generation has
 * nothing to keep and does not grow over a long input (a gathered batch of a read's thousands of
 * lines survived every collection that caught it, and grew the heap to its maximum).
 *
 * @module
 */

import { concat, FrameDecoder, FrameTooLargeError } from "../lib/mod.ts";

/**
 * How stdin is cut into messages (`--input`): `line` (a `\r` before the `\n` is dropped), `nul`
 * (NUL-separated records, as `xargs -0` reads), or `whole` (all of it is one message).
 */
export type InputMode = "line" | "nul" | "whole";

/** Every {@linkcode InputMode}, in the order `--help` lists them. */
export const INPUT_MODES: readonly InputMode[] = ["line", "nul", "whole"];

/** Options of {@linkcode inputBatches}. */
export interface InputOptions {
  /** How the input is cut into messages; default `line`. */
  input?: InputMode;
  /** Longest line taken, in bytes (`--max-frame`). */
  maxFrame: number;
  /** Settles when no more input is wanted (the server has gone): a pending read then ends. */
  stop: Promise<unknown>;
}

/**
 * The messages of `input`, in batches: every whole line (or record) of one read, then the
 * unterminated last one at the end; with `input: "whole"`, one batch of one message holding all
 * of it. Each batch cuts its lines as it is iterated: take them all before asking for the next
 * batch. Ends early, without error, once `options.stop` settles; a message over `maxFrame`
 * throws a {@linkcode FrameTooLargeError} where it would be, after the messages before it.
 *
 * @example
 * ```ts
 * import { inputBatches } from "./client_input.ts";
 * const input = ReadableStream.from([new TextEncoder().encode("a\nb\r\nc")]);
 * for await (const lines of inputBatches(input, { maxFrame: 64, stop: new Promise(() => {}) })) {
 *   console.log([...lines].length); // 2, then 1
 * }
 * ```
 */
export async function* inputBatches(
  input: ReadableStream<Uint8Array>,
  options: InputOptions,
): AsyncGenerator<Iterable<Uint8Array>> {
  const mode = options.input ?? "line";
  const reader = input.getReader();
  // One cancel for the whole session, which ends a pending read as if the input had ended.
  // (Racing every read against `stop` would hang one reaction per read on it.)
  let stopped = false;
  options.stop.then(() => {
    stopped = true;
    reader.cancel().catch(() => {});
  });
  try {
    if (mode === "whole") {
      const whole = await readWhole(reader, options.maxFrame, () => stopped);
      if (whole !== undefined) yield [whole];
      return;
    }
    const decoder = new FrameDecoder({ framing: mode, maxFrame: options.maxFrame });
    for (;;) {
      const { value, done } = await reader.read();
      if (stopped) return;
      if (done) {
        const last = decoder.end();
        if (last !== undefined) yield [last];
        return;
      }
      decoder.push(value);
      yield linesOf(decoder);
    }
  } finally {
    reader.releaseLock();
  }
}

// All of `reader`'s bytes as one message, or undefined once `stopped()`. Memory is bounded by
// `maxFrame`: past it, the input is refused, not read on.
async function readWhole(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxFrame: number,
  stopped: () => boolean,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (stopped()) return undefined;
    if (done) break;
    size += value.length;
    if (size > maxFrame) throw new FrameTooLargeError(size, maxFrame);
    chunks.push(value);
  }
  return concat(chunks);
}

// The whole lines buffered in `decoder`, each cut only when asked for. Every step returns the
// same result object (`for…of` reads it at once): a generator would make one per line.
function linesOf(decoder: FrameDecoder): Iterable<Uint8Array> {
  const step: { done: boolean; value: Uint8Array } = { done: false, value: new Uint8Array(0) };
  const iterator: Iterator<Uint8Array> = {
    next(): IteratorResult<Uint8Array> {
      const line = decoder.next();
      if (line === undefined) step.done = true;
      else step.value = line;
      return step;
    },
  };
  return { [Symbol.iterator]: () => iterator };
}
