/**
 * JSON event lines that carry a payload (`{"event":"message",…,"text":…}` or `…"base64":…`),
 * rendered straight to bytes piece by piece when the payload is large: the same bytes as
 * `JSON.stringify` of the event, without the whole payload as one string, its copy in the JSON
 * text and that text's copy in UTF-8 (for 16 MiB, each of these took 20–40 ms on the event loop,
 * where every other client's messages wait).
 *
 * @module
 */

import { isUtf8 } from "node:buffer";
import { concat } from "../lib/framing.ts";
import type { LineWriter } from "./output.ts";

/** Payloads from this size on are rendered piece by piece. */
const PIECEWISE_FROM = 64 * 1024;
/** Bytes of payload per piece: a multiple of 3, so that base64 pieces join without padding. */
const PIECE = 3 * 16 * 1024;
/** The most a UTF-8 piece is backed up to end on a character boundary. */
const UTF8_MAX_BYTES = 4;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Queues the JSON line of an event with `fields` and `payload` (`text` when it is UTF-8, else
 * `base64`) on `out`, exactly as `out.line(JSON.stringify({ ...fields, ...payloadFields(payload) }))`
 * would, and returns that promise.
 *
 * @example
 * ```ts
 * import { LineWriter } from "./output.ts";
 * import { writePayloadEvent } from "./json_event.ts";
 * const out = new LineWriter(Deno.stdout);
 * await writePayloadEvent(out, { event: "reply" }, Uint8Array.of(0xff)); // {"event":"reply","base64":"/w=="}
 * ```
 */
export function writePayloadEvent(
  out: Pick<LineWriter, "line" | "data">,
  fields: Record<string, string | number>,
  payload: Uint8Array,
): Promise<void> {
  const text = isUtf8(payload);
  if (payload.length < PIECEWISE_FROM) {
    const field = text ? { text: strictDecoder.decode(payload) } : { base64: payload.toBase64() };
    return out.line(JSON.stringify({ ...fields, ...field }));
  }
  return out.data(payloadEventBytes(fields, payload, text));
}

/**
 * The bytes of `JSON.stringify({ ...fields, text | base64 })` for `payload`, made piece by piece.
 * `text` says whether the payload is UTF-8.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { payloadEventBytes } from "./json_event.ts";
 * const bytes = payloadEventBytes({ event: "m" }, new TextEncoder().encode('a"b'), true);
 * assertEquals(new TextDecoder().decode(bytes), '{"event":"m","text":"a\\"b"}');
 * ```
 */
export function payloadEventBytes(
  fields: Record<string, string | number>,
  payload: Uint8Array,
  text: boolean,
): Uint8Array {
  const open = JSON.stringify(fields);
  const head = encoder.encode(
    `${open === "{}" ? "{" : `${open.slice(0, -1)},`}"${text ? "text" : "base64"}":"`,
  );
  const tail = encoder.encode('"}');
  if (!text) {
    // Base64 is ASCII and needs no escaping: its exact size is known, one buffer holds it all.
    const size = head.length + Math.ceil(payload.length / 3) * 4 + tail.length;
    const line = new Uint8Array(size);
    line.set(head);
    let at = head.length;
    for (let i = 0; i < payload.length; i += PIECE) {
      at += encoder.encodeInto(payload.subarray(i, i + PIECE).toBase64(), line.subarray(at))
        .written;
    }
    line.set(tail, at);
    return line;
  }
  // Pieces end on a character boundary, so that no surrogate pair is split between two
  // `JSON.stringify` calls (which would escape each half instead of writing the pair).
  const parts: Uint8Array[] = [head];
  for (let start = 0; start < payload.length;) {
    let end = Math.min(start + PIECE, payload.length);
    for (let back = 0; back < UTF8_MAX_BYTES && end < payload.length; back++) {
      if ((payload[end] & 0xc0) !== 0x80) break;
      end--;
    }
    const quoted = JSON.stringify(strictDecoder.decode(payload.subarray(start, end)));
    parts.push(encoder.encode(quoted.slice(1, -1)));
    start = end;
  }
  parts.push(tail);
  return concat(parts);
}
