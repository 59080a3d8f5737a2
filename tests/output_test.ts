/**
 * Unit tests of `cli/output.ts`: payload renderings and the line writer.
 *
 * @module
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import {
  DISPLAY_HEAD_BYTES,
  displayPayload,
  escapeName,
  escapeText,
  LineWriter,
  payloadFields,
  secondsText,
  type Sink,
} from "../cli/output.ts";

const encoder = new TextEncoder();

Deno.test("displayPayload: short payloads are shown whole, escaped", () => {
  assertEquals(displayPayload(encoder.encode("héllo\tworld\n")), "héllo\\tworld\\n");
  assertEquals(displayPayload(Uint8Array.of(0x68, 0x69, 0xff, 0x5c, 0x1b)), "hi\\xff\\\\\\x1b");
  const exact = new Uint8Array(DISPLAY_HEAD_BYTES).fill(0x61);
  assertEquals(displayPayload(exact), "a".repeat(DISPLAY_HEAD_BYTES));
});

Deno.test("displayPayload: long payloads show a 1 KiB head, … and the total size", () => {
  const text = new Uint8Array(5000).fill(0x61);
  assertEquals(displayPayload(text), `${"a".repeat(DISPLAY_HEAD_BYTES)}… (5000 bytes)`);
  const binary = new Uint8Array(DISPLAY_HEAD_BYTES + 1).fill(0xff);
  assertEquals(displayPayload(binary), `${"\\xff".repeat(DISPLAY_HEAD_BYTES)}… (1025 bytes)`);
  // Still decided on the whole payload: an invalid byte after the head makes it binary.
  const mixed = new Uint8Array(DISPLAY_HEAD_BYTES + 1).fill(0x62);
  mixed[DISPLAY_HEAD_BYTES] = 0xff;
  assertEquals(displayPayload(mixed, { headBytes: 2 }), "bb… (1025 bytes)");
  assertEquals(
    displayPayload(Uint8Array.of(0xc3, 0xa9, 0xff), { headBytes: 1 }),
    "\\xc3… (3 bytes)",
  );
});

Deno.test("displayPayload: the head ends on a character boundary", () => {
  // "é" is 2 bytes, "😀" 4: a cut inside either keeps the whole characters before it.
  const payload = encoder.encode("aé😀b");
  assertEquals(displayPayload(payload, { headBytes: 2 }), "a… (8 bytes)");
  assertEquals(displayPayload(payload, { headBytes: 3 }), "aé… (8 bytes)");
  assertEquals(displayPayload(payload, { headBytes: 6 }), "aé… (8 bytes)");
  assertEquals(displayPayload(payload, { headBytes: 7 }), "aé😀… (8 bytes)");
});

Deno.test("displayPayload: a 16 MiB binary payload renders in well under a second", () => {
  const payload = new Uint8Array(16 * 1024 * 1024).fill(0xff);
  const start = performance.now();
  displayPayload(payload);
  const elapsed = performance.now() - start;
  assert(elapsed < 1000, `${Math.round(elapsed)} ms`);
});

Deno.test("escapeText: control characters and the backslash are escaped, the rest kept", () => {
  assertEquals(escapeText("a\x1b[2J\x07\\b\u2028é"), "a\\x1b[2J\\x07\\\\b\\u2028é");
});

Deno.test("payloadFields: text when UTF-8 (a BOM kept), base64 otherwise, linear in size", () => {
  assertEquals(payloadFields(encoder.encode("\ufeffhi")), { text: "\ufeffhi" });
  assertEquals(payloadFields(Uint8Array.of(0xff, 0xfe)), { base64: "//4=" });
  const big = new Uint8Array(16 * 1024 * 1024 - 1);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131) & 0xff;
  const start = performance.now();
  const fields = payloadFields(big);
  const elapsed = performance.now() - start;
  assert("base64" in fields);
  assert(elapsed < 1000, `${Math.round(elapsed)} ms`);
  assertEquals(Uint8Array.fromBase64(fields.base64), big);
});

/** A sink that records what it is given and fails once `fail` is set. */
function recordingSink(): Sink & { written: string[]; fail?: Error } {
  const decoder = new TextDecoder();
  const sink = {
    written: [] as string[],
    fail: undefined as Error | undefined,
    write(data: Uint8Array): Promise<number> {
      if (sink.fail !== undefined) return Promise.reject(sink.fail);
      sink.written.push(decoder.decode(data));
      return Promise.resolve(data.length);
    },
  };
  return sink;
}

Deno.test("LineWriter: after a failed write every line rejects and nothing more is written", async () => {
  const sink = recordingSink();
  const out = new LineWriter(sink);
  await out.line("one");
  const broken = new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
  sink.fail = broken;
  await assertRejects(() => out.line("two"), Deno.errors.BrokenPipe);
  assertEquals(await out.failure, broken);
  sink.fail = undefined;
  await assertRejects(() => out.line("three"), Deno.errors.BrokenPipe);
  await out.flush();
  assertEquals(sink.written, ["one\n"]);
});

Deno.test("LineWriter: the backlog is counted alike in and out, whatever the characters", async () => {
  const out = new LineWriter(recordingSink());
  // 2 bytes each in UTF-8 but one UTF-16 unit: the backlog must come back to nothing.
  await out.line("é".repeat(800_000));
  assert(!out.congested);
  const pending = out.line("x".repeat(1_100_000));
  assert(out.congested, "more than 1 MiB queued");
  await pending;
  assert(!out.congested);
});

Deno.test("LineWriter: lines queued while writes are pending keep every byte, in order", async () => {
  // Each write is read only when it completes, a task later, as an operating system may: a
  // buffer reused before then would show up as corrupted output.
  const decoder = new TextDecoder();
  let output = "";
  const sink: Sink = {
    async write(data) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const size = Math.min(data.length, 5000);
      output += decoder.decode(data.subarray(0, size), { stream: true });
      return size;
    },
  };
  const out = new LineWriter(sink);
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    // Several 64 KiB runs' worth, multi-byte text, and now and then a line too long for a run.
    const line = i % 5000 === 4999 ? "é".repeat(40_000) : `${i} ${"ü".repeat(i % 13)}`;
    lines.push(line);
    out.line(line);
    if (i % 3000 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await out.flush();
  assertEquals(output, lines.join("\n") + "\n");
  assert(!out.congested);
});

Deno.test("secondsText: one second is singular, other durations plural", () => {
  assertEquals(secondsText(1000), "1 second");
  assertEquals(secondsText(500), "0.5 seconds");
  assertEquals(secondsText(90_000), "90 seconds");
});

Deno.test("escapeName: names as payloads (backslash doubled, bidi overrides escaped), a pipe prefix kept", () => {
  assertEquals(escapeName("back\\slash\u202e"), "back\\\\slash\\u202e");
  assertEquals(escapeName("\\\\.\\pipe\\a\\b"), "\\\\.\\pipe\\a\\\\b");
  assertEquals(escapeName("a\x1bb"), "a\\x1bb");
  assertEquals(displayPayload(new TextEncoder().encode("abc\u202edef")), "abc\\u202edef");
});
