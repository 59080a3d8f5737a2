/**
 * Hardening, hostile and broken input: each kind is sent to a real `server.ts` over a real
 * socket; the server drops that client alone with a named error, keeps serving a bystander
 * client, and never allocates what a length header merely claims.
 *
 * Everything runs on Windows too (named pipes, under Wine): the raw peer is then the library's
 * own pipe transport, below the framing, so the bytes go out exactly as written. Memory is read
 * from `/proc`, so the memory bounds are checked on Linux only.
 */

import { assert, assertEquals, assertLessOrEqual, assertStringIncludes } from "./_assert.ts";
import { NOT_LINUX, procStatus } from "./_process_stats.ts";
import { closeQuietly, header, readToEnd } from "./_raw_peer.ts";
import { Random } from "./_helpers.ts";
import { type ByteConn, concat, FrameDecoder, type Framing } from "../lib/mod.ts";

import { droppedWith, rawPeer, withServer } from "./_bystander.ts";
const encoder = new TextEncoder();

Deno.test({
  name: "input: a length above --max-frame is refused on the header alone, up to 0xFFFFFFFF",
  async fn() {
    const max = 1024;
    const random = new Random(0x5eed);
    const lengths = [max + 1, max + 2, 4096, 65536, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2];
    for (let i = 0; i < 24; i++) lengths.push(random.int(max + 1, 2 ** 32 - 1));
    lengths.push(0xffff_ffff);
    await withServer(["--max-frame", String(max)], async (server, bystander) => {
      // Memory is read from /proc, on Linux; elsewhere the refusals alone are checked.
      const linux = !NOT_LINUX;
      const hwm = linux ? procStatus(server.pid, "VmHWM") : 0;
      const size = linux ? procStatus(server.pid, "VmSize") : 0;
      for (const length of lengths) {
        const { conn, id } = await rawPeer(server);
        try {
          // Only the header: the server must not wait for (or make room for) the payload.
          await conn.write(header(length));
          const message = await droppedWith(server, id);
          assertEquals(
            message,
            `frame of ${length} bytes is larger than the maximum of ${max} bytes (--max-frame)`,
          );
          assertEquals(await readToEnd(conn), new Uint8Array(0), "the server answered");
        } finally {
          closeQuietly(conn);
        }
        await bystander.ping();
      }
      // The largest allowed frame still goes through.
      const { conn, id } = await rawPeer(server);
      try {
        await conn.write(header(max));
        await conn.write(new Uint8Array(max).fill(0x61));
        await server.until(() => server.count("message", id) === 1, "the largest frame");
        assertEquals(server.of(id).find((event) => event.event === "message")?.bytes, max);
      } finally {
        closeQuietly(conn);
      }
      // Nothing near the claimed sizes (up to 4 GiB, ~60 GiB in all) was ever resident.
      if (!linux) return;
      // (Thresholds leave room for the runtime's own growth; most claims are over a gigabyte.)
      const resident = procStatus(server.pid, "VmHWM") - hwm;
      assertLessOrEqual(resident, 128 * 1024 * 1024, `peak resident memory grew ${resident}`);
      // Not even reserved (a zero-filled allocation is virtual until written).
      const reserved = procStatus(server.pid, "VmSize") - size;
      assertLessOrEqual(reserved, 512 * 1024 * 1024, `virtual memory grew ${reserved}`);
    });
  },
});

Deno.test({
  name: "input: headers claiming --max-frame on 64 idle connections reserve no memory",
  ignore: NOT_LINUX,
  async fn() {
    const claimed = 16 * 1024 * 1024;
    const peers = 64;
    await withServer([], async (server, bystander) => {
      const rss = procStatus(server.pid, "VmRSS");
      const size = procStatus(server.pid, "VmSize");
      const held: { conn: ByteConn; id: number }[] = [];
      let resident: number;
      let reserved: number;
      try {
        for (let i = 0; i < peers; i++) {
          const peer = await rawPeer(server);
          held.push(peer);
          await peer.conn.write(header(claimed));
        }
        // Served after the headers, which arrived first.
        await bystander.ping();
        resident = procStatus(server.pid, "VmRSS") - rss;
        reserved = procStatus(server.pid, "VmSize") - size;
      } finally {
        for (const { conn } of held) closeQuietly(conn);
      }
      // Each error says the server had parsed the header (0 of the claimed bytes received).
      for (const { id } of held) {
        assertEquals(
          await droppedWith(server, id),
          `connection closed in the middle of a frame (0 of ${claimed} bytes)`,
        );
      }
      assertLessOrEqual(resident, 64 * 1024 * 1024, `resident memory grew ${resident} bytes`);
      // A bare header reserves nothing, not even virtually: a frame's own buffer waits until an
      // eighth of it has arrived (lib/framing.ts). 64 reservations would be 1 GiB.
      assertLessOrEqual(reserved, 256 * 1024 * 1024, `reserved ${reserved}`);
    });
  },
});

Deno.test({
  name: "input: a header or a frame cut off by end of stream is a named error",
  async fn() {
    const cases: [Uint8Array[], string][] = [
      [[Uint8Array.of(0, 0)], "connection closed in the middle of a length header (2 of 4 bytes)"],
      [[Uint8Array.of(0, 0, 0)], "connection closed in the middle of a length header (3 of 4"],
      [[header(10), encoder.encode("12345")], "in the middle of a frame (5 of 10 bytes)"],
      [[header(10)], "in the middle of a frame (0 of 10 bytes)"],
      [[header(2), encoder.encode("ok"), header(70000), new Uint8Array(65536)], "(65536 of 70000"],
    ];
    await withServer([], async (server, bystander) => {
      for (const [parts, expected] of cases) {
        const { conn, id } = await rawPeer(server);
        try {
          for (const part of parts) await conn.write(part);
          await conn.closeWrite();
          assertStringIncludes(await droppedWith(server, id), expected);
        } finally {
          closeQuietly(conn);
        }
        await bystander.ping();
      }
      // The whole frame before the cut was still printed.
      assertEquals(server.events.filter((e) => e.event === "message" && e.text === "ok").length, 1);
    });
  },
});

for (const framing of ["line", "nul"] as const) {
  Deno.test({
    name: `input: a ${framing} frame that never ends is cut off past --max-frame`,
    async fn() {
      const max = 1024;
      await withServer(["--framing", framing, "--max-frame", String(max)], async (server) => {
        const { conn, id } = await rawPeer(server);
        // Up to 8 MiB without a delimiter, in small writes; the server hangs up long before.
        const writing = (async () => {
          const chunk = new Uint8Array(4096).fill(0x61);
          try {
            for (let sent = 0; sent < 8 * 1024 * 1024; sent += chunk.length) {
              await conn.write(chunk);
            }
          } catch {
            // The server closed the connection: expected.
          }
        })();
        try {
          const message = await droppedWith(server, id);
          // The frame's size is unknown: the message must not make one up.
          const delimiter = framing === "nul" ? "NUL" : "newline";
          assertEquals(
            message,
            `more than the maximum of 1024 bytes (--max-frame) arrived without a ${delimiter}`,
          );
          await writing;
        } finally {
          closeQuietly(conn);
        }
        // A frame of exactly --max-frame bytes is fine.
        const edge = await rawPeer(server);
        try {
          const delimiter = framing === "line" ? 0x0a : 0x00;
          await edge.conn.write(new Uint8Array(max + 1).fill(0x62).fill(delimiter, max));
          await server.until(() => server.count("message", edge.id) === 1, "the edge frame");
        } finally {
          closeQuietly(edge.conn);
        }
      });
    },
  });
}

/** Invalid UTF-8, a NUL, ESC and a backslash. */
const HOSTILE = Uint8Array.of(0x68, 0x69, 0xff, 0xfe, 0x00, 0x1b, 0x5c, 0xc3);

Deno.test({
  name: "input: invalid UTF-8 is base64 in --json and escaped in human output",
  async fn() {
    await withServer([], async (server) => {
      const { conn, id } = await rawPeer(server);
      try {
        await conn.write(header(HOSTILE.length));
        await conn.write(HOSTILE);
        await server.until(() => server.count("message", id) === 1, "the message");
        const event = server.of(id).find((each) => each.event === "message")!;
        assertEquals(event.base64, btoa(String.fromCharCode(...HOSTILE)));
        assertEquals(event.text, undefined);
        assertEquals(event.bytes, HOSTILE.length);
      } finally {
        closeQuietly(conn);
      }
    });
    await withServer([], async (server) => {
      const { conn } = await rawPeer(server);
      try {
        const escapes = encoder.encode("red \x1b[31mALERT\x1b[0m\r\u2028");
        for (const payload of [HOSTILE, escapes]) {
          await conn.write(header(payload.length));
          await conn.write(payload);
        }
        const lines = () => server.lines;
        assert(lines()[0].startsWith("listening on "), lines()[0]);
        await server.until(() => lines().some((line) => line.includes("ALERT")), "the messages");
        const shown = lines().filter((line) => /^client \d+: /.test(line));
        assertEquals(shown.slice(-2), [
          "client 2: hi\\xff\\xfe\\x00\\x1b\\\\\\xc3",
          "client 2: red \\x1b[31mALERT\\x1b[0m\\r\\u2028",
        ]);
        // Nothing a terminal would act on reached the output.
        // deno-lint-ignore no-control-regex -- looking for control characters is the point
        for (const line of lines()) assert(!/[\x00-\x1f\x7f\ufffd\u2028]/.test(line), line);
      } finally {
        closeQuietly(conn);
      }
    }, { json: false });
  },
});

function reference(stream: Uint8Array, framing: Framing, maxFrame: number) {
  const decoder = new FrameDecoder({ framing, maxFrame });
  const frames: Uint8Array[] = [];
  decoder.push(stream);
  try {
    for (let frame; (frame = decoder.next()) !== undefined;) frames.push(frame);
    const last = decoder.end();
    if (last !== undefined) frames.push(last);
    return { frames, error: undefined };
  } catch (error) {
    return { frames, error: (error as Error).message };
  }
}

function encodeAll(payloads: Uint8Array[], framing: Framing): Uint8Array {
  const parts = payloads.flatMap((payload) =>
    framing === "length"
      ? [header(payload.length), payload]
      : [payload, Uint8Array.of(framing === "line" ? 0x0a : 0x00)]
  );
  return concat(parts);
}

// In delimiter framings, how reads were cut decides whether the delimiter was seen (the size is
// then known: "frame of N bytes is larger than …") or not yet ("more than … without a newline").
const normalise = (message: string | undefined) =>
  message?.replace(/^frame of \d+ bytes is larger than the maximum of (\d+) bytes.*/, "over $1")
    .replace(/^more than the maximum of (\d+) bytes .*arrived without a .*/, "over $1");

for (const framing of ["length", "line", "nul"] as const) {
  Deno.test({
    name: `input: property — random bytes and random splits of valid ${framing} streams ` +
      "reach the server as whole frames or one named error",
    async fn() {
      const maxFrame = 4096;
      const seed = 0xd0c7 + framing.length;
      const random = new Random(seed);
      const delimiter = framing === "nul" ? 0x00 : 0x0a;
      await withServer(
        ["--framing", framing, "--max-frame", String(maxFrame), "--reply", "echo"],
        async (server) => {
          for (let round = 0; round < 60; round++) {
            const payloads: Uint8Array[] = [];
            for (let i = random.int(0, 12); i > 0; i--) {
              const payload = random.bytes(random.int(0, random.next() < 0.1 ? 5000 : 300));
              if (framing !== "length") {
                for (let j = 0; j < payload.length; j++) {
                  if (payload[j] === delimiter) payload[j] = 0x41;
                }
              }
              payloads.push(payload);
            }
            let stream = encodeAll(payloads, framing);
            // Three rounds in four end badly: random bytes; a cut-off stream; or a frame that
            // may be too long (a header claiming up to 8000 bytes, or a run without delimiter).
            const ending = random.int(0, 3);
            if (ending === 1) {
              stream = Uint8Array.of(...stream, ...random.bytes(random.int(1, 6000)));
            } else if (ending === 2 && stream.length > 0) {
              stream = stream.slice(0, random.int(0, stream.length - 1));
            } else if (ending === 3) {
              const tail = framing === "length"
                ? [...header(random.int(0, 8000)), ...random.bytes(random.int(0, 9000))]
                : new Array(random.int(1, 9000)).fill(0x7a);
              stream = Uint8Array.of(...stream, ...tail);
            }
            const expected = reference(stream, framing, maxFrame);
            const context = `${framing} seed ${seed} round ${round}`;
            const { conn, id } = await rawPeer(server);
            try {
              const echoes = (async () => {
                const echoer = new FrameDecoder({ framing, maxFrame });
                echoer.push(await readToEnd(conn));
                const got: Uint8Array[] = [];
                for (let frame; (frame = echoer.next()) !== undefined;) got.push(frame);
                return got;
              })();
              try {
                for (let offset = 0; offset < stream.length;) {
                  const size = random.next() < 0.3 ? 1 : random.int(1, 2048);
                  await conn.write(stream.subarray(offset, offset + size));
                  offset += size;
                }
                await conn.closeWrite();
              } catch {
                // The server hung up on garbage before everything was written.
              }
              const got = await echoes;
              await server.until(() => server.count("disconnected", id) > 0, context);
              const error = server.of(id).find((event) => event.event === "error")?.message;
              assertEquals(normalise(error), normalise(expected.error), context);
              // An echo goes through the framing again (`line` strips one more trailing CR).
              const echoed = reference(encodeAll(expected.frames, framing), framing, maxFrame);
              assertEquals(got.length, echoed.frames.length, context);
              got.forEach((frame, i) => assertEquals(frame, echoed.frames[i], context));
            } finally {
              closeQuietly(conn);
            }
          }
        },
      );
    },
  });
}
