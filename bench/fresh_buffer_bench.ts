/**
 * Why bulk `receive()` cannot reach the raw socket (issue 10): every frame it returns is a new
 * buffer the caller owns, and a fresh 1 MiB `Uint8Array` costs far more to allocate, fault in and
 * collect than refilling one that is reused, which is what the raw socket peer (and
 * `receiveInto`) do. Run `deno bench bench/fresh_buffer_bench.ts`: the report shows the fresh
 * buffer's time as a multiple of the reused one's (the baseline), with no I/O at all.
 *
 * @module
 */

const FRAME = 1024 * 1024;
const source = new Uint8Array(FRAME).fill(0x61);
const reused = new Uint8Array(FRAME);
let sink = 0;

Deno.bench({
  name: "1 MiB frame copied into a reused buffer (receiveInto, raw socket)",
  group: "one 1 MiB frame",
  baseline: true,
  fn() {
    reused.set(source);
    sink ^= reused[FRAME - 1];
  },
});

Deno.bench({
  name: "1 MiB frame copied into a fresh buffer (receive)",
  group: "one 1 MiB frame",
  fn() {
    const frame = new Uint8Array(FRAME);
    frame.set(source);
    sink ^= frame[FRAME - 1];
  },
});

globalThis.addEventListener("unload", () => {
  // Keeps the work observable, so it is not optimised away.
  if (sink === -1) console.log(sink);
});
