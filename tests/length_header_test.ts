import { HEADER_BYTES, readLengthHeader, writeLengthHeader } from "../lib/length_header.ts";
import { MAX_LENGTH_HEADER } from "../lib/framing.ts";
import { assertEquals } from "./_assert.ts";

const SIZES = [0, 1, 0xff, 0x100, 258, 0x0102_0304, 0x7fff_ffff, 0x8000_0000, MAX_LENGTH_HEADER];

Deno.test("length header: 4 bytes, the size big-endian, as DataView's setUint32 writes it", () => {
  assertEquals(HEADER_BYTES, 4);
  for (const size of SIZES) {
    const ours = new Uint8Array(HEADER_BYTES);
    writeLengthHeader(ours, 0, size);
    const reference = new Uint8Array(HEADER_BYTES);
    new DataView(reference.buffer).setUint32(0, size);
    assertEquals(ours, reference, `size ${size}`);
  }
});

Deno.test("length header: written at an offset, touching nothing else; read back from there", () => {
  for (const size of SIZES) {
    const buffer = new Uint8Array(HEADER_BYTES + 6).fill(0xaa);
    writeLengthHeader(buffer, 3, size);
    const untouched = [...buffer.subarray(0, 3), ...buffer.subarray(3 + HEADER_BYTES)];
    assertEquals(untouched, new Array(6).fill(0xaa), `size ${size}`);
    assertEquals(readLengthHeader(buffer, 3), size, `size ${size}`);
  }
});

Deno.test("length header: sizes with the top bit set read as unsigned, not negative", () => {
  assertEquals(readLengthHeader(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0), MAX_LENGTH_HEADER);
  assertEquals(readLengthHeader(Uint8Array.of(0x80, 0, 0, 0), 0), 0x8000_0000);
});
