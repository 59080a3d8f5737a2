/**
 * Why duct's own decoder stays for the delimited framings rather than `@std/streams`: it cuts the
 * same lines faster and, unlike `DelimiterStream` and `TextLineStream`, bounds a frame by
 * `maxFrame` (a peer that never sends `\n` cannot grow the buffer without limit). Run
 * `deno run bench/std_streams.ts`: 100,000 lines of 20 bytes in 64 KiB chunks through each, with
 * no I/O, 15 interleaved rounds; prints each one's median. bench/README.md records the figures.
 *
 * @module
 */

import { DelimiterStream, TextLineStream } from "@std/streams";
import { FrameDecoder, FrameDecoderStream } from "../lib/mod.ts";

const LINES = 100_000;
const ROUNDS = 15;
const line = new TextEncoder().encode("a 20-byte line here\n");
const input = new Uint8Array(LINES * line.length);
for (let i = 0; i < LINES; i++) input.set(line, i * line.length);
const chunks: Uint8Array[] = [];
for (let at = 0; at < input.length; at += 64 * 1024) {
  chunks.push(input.subarray(at, at + 64 * 1024));
}

async function count<T>(stream: ReadableStream<T>): Promise<number> {
  let frames = 0;
  for await (const _ of stream) frames++;
  return frames;
}

const CASES: [string, () => Promise<number> | number][] = [
  ["FrameDecoder push/next (what Connection and the programs use)", () => {
    const decoder = new FrameDecoder({ framing: "line" });
    let frames = 0;
    for (const chunk of chunks) {
      decoder.push(chunk);
      while (decoder.next() !== undefined) frames++;
    }
    return frames;
  }],
  [
    "FrameDecoderStream (ours, a TransformStream)",
    () =>
      count(ReadableStream.from(chunks).pipeThrough(new FrameDecoderStream({ framing: "line" }))),
  ],
  [
    "@std/streams DelimiterStream",
    () => count(ReadableStream.from(chunks).pipeThrough(new DelimiterStream(Uint8Array.of(0x0a)))),
  ],
  ["@std/streams TextLineStream (after TextDecoderStream)", () =>
    count(
      ReadableStream.from(chunks).pipeThrough(new TextDecoderStream()).pipeThrough(
        new TextLineStream(),
      ),
    )],
];

const times: number[][] = CASES.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, [name, run]] of CASES.entries()) {
    const start = performance.now();
    const frames = await run();
    times[i].push(performance.now() - start);
    // DelimiterStream also gives the empty remainder after the last delimiter.
    if (frames !== LINES && frames !== LINES + 1) throw new Error(`${name}: ${frames} lines`);
  }
}
const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1];
const base = median(times[0]);
for (const [i, [name]] of CASES.entries()) {
  const ms = median(times[i]);
  console.log(`${name.padEnd(62)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / base).toFixed(1)}×`);
}
