/**
 * Hardening, slow peers: a real `server.ts` closes clients that send nothing or trickle a frame
 * past `--idle-timeout`, serves one that sends a byte a second while serving others, and keeps
 * its memory bounded while a client never reads what it echoes. Everything runs on Windows too
 * (named pipes, under Wine); memory is read from `/proc`, so its bound is checked on Linux only.
 */

import { assert, assertEquals, assertLessOrEqual } from "./_assert.ts";
import { endpointIn, removeQuietly, tempDir } from "./_endpoints.ts";
import { IS_WINDOWS } from "./_process.ts";
import { NOT_LINUX, procStatus } from "./_process_stats.ts";
import { closeQuietly, header, readToEnd } from "./_raw_peer.ts";
import { Server } from "./_server.ts";
import { connect } from "../lib/mod.ts";

import { ACK } from "../server.ts";
import { Bystander, droppedWith, rawPeer, withServer } from "./_bystander.ts";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test({
  name: "input: --idle-timeout closes a client that sends nothing",
  async fn() {
    const dir = await tempDir("idle");
    try {
      await using server = await Server.start([
        "--name",
        endpointIn(dir),
        "--idle-timeout",
        "0.3",
      ]);
      const { conn, id } = await rawPeer(server);
      try {
        assertEquals(await droppedWith(server, id), "idle for more than 0.3 seconds");
        assertEquals(await readToEnd(conn), new Uint8Array(0));
      } finally {
        closeQuietly(conn);
      }
      // Later clients are served as usual.
      await using bystander = await Bystander.join(server);
      await bystander.ping();
    } finally {
      await removeQuietly(dir);
    }
  },
});

Deno.test({
  name: "input: --idle-timeout also closes a client trickling a frame it never completes",
  async fn() {
    const dir = await tempDir("trickle");
    try {
      await using server = await Server.start([
        "--name",
        endpointIn(dir),
        "--idle-timeout",
        "0.5",
      ]);
      const { conn, id } = await rawPeer(server);
      try {
        // A byte every 100 ms keeps the socket busy, but no message ever completes: the timeout
        // counts from the last whole message, so this cannot hold a place forever.
        await conn.write(header(1000));
        let sent = 0;
        while (server.count("disconnected", id) === 0) {
          assert(sent < 100, "the trickling client was never closed");
          await new Promise((resolve) => setTimeout(resolve, 100));
          try {
            await conn.write(Uint8Array.of(0x61));
          } catch {
            break; // Closed by the server.
          }
          sent++;
        }
        const message = await droppedWith(server, id);
        assert(message.startsWith("idle for more than 0.5 seconds, in the middle of a message: "));
        assertEquals(server.count("message", id), 0);
      } finally {
        closeQuietly(conn);
      }
    } finally {
      await removeQuietly(dir);
    }
  },
});

Deno.test({
  name: "input: an idle cut is not an end of stream: an unterminated line is named in the " +
    "error, never printed as a message (issue 18)",
  async fn() {
    const dir = await tempDir("idle-line");
    try {
      await using server = await Server.start([
        "--name",
        endpointIn(dir),
        "--framing",
        "line",
        "--idle-timeout",
        "0.3",
      ]);
      const { conn, id } = await rawPeer(server);
      try {
        await conn.write(encoder.encode("whole\npartial2"));
        const message = await droppedWith(server, id);
        assertEquals(
          message,
          "idle for more than 0.3 seconds, in the middle of a message: its 8 bytes received so " +
            "far were dropped, not printed (partial2)",
        );
        assertEquals(server.of(id).filter((e) => e.event === "message").map((e) => e.text), [
          "whole",
        ]);
        // The whole line was answered; the fragment was not.
        assertEquals(decoder.decode(await readToEnd(conn)), `${ACK}\n`);
      } finally {
        closeQuietly(conn);
      }
    } finally {
      await removeQuietly(dir);
    }
  },
});

Deno.test({
  name: "input: a client sending one byte per second is served, as are others meanwhile; " +
    "without --idle-timeout a silent client stays",
  async fn() {
    await withServer([], async (server, bystander) => {
      const silent = await connect({ name: server.path });
      await server.until(() => server.count("connected") === 2, "the silent client");
      try {
        const slow = await rawPeer(server);
        try {
          const frame = Uint8Array.of(...header(1), 0x7a);
          for (const [index, byte] of frame.entries()) {
            // The pace of the attack itself, not a synchronisation.
            if (index > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
            await slow.conn.write(Uint8Array.of(byte));
            await bystander.ping();
          }
          await server.until(() => server.count("message", slow.id) === 1, "the slow message");
          const reply = new Uint8Array(4 + ACK.length);
          for (let got = 0; got < reply.length;) {
            const count = await slow.conn.read(reply.subarray(got));
            assert(count !== null, "the slow client was dropped");
            got += count;
          }
          assertEquals(decoder.decode(reply.subarray(4)), ACK);
        } finally {
          closeQuietly(slow.conn);
        }
        // The silent client, quiet for the seconds above, was not closed (no idle timeout).
        await silent.send("still here");
        assertEquals(decoder.decode((await silent.receive())!), ACK);
      } finally {
        await silent.close();
      }
    });
  },
});

Deno.test({
  name: "input: a client that never reads while the server echoes 200 MiB — server memory " +
    `stays bounded${IS_WINDOWS ? " (Linux only)" : ""} and another client keeps its replies`,
  // Memory is read from /proc (Linux); on Windows the rest runs: the server stops reading the
  // flooder, the other client is answered meanwhile, and every echo arrives. Not on macOS.
  ignore: NOT_LINUX && !IS_WINDOWS,
  async fn() {
    const dir = await tempDir("flood");
    const frameSize = 1024 * 1024;
    const frames = 200;
    const linux = !NOT_LINUX;
    try {
      await using server = await Server.start([
        "--name",
        endpointIn(dir),
        "--reply",
        "echo",
      ]);
      await using other = await connect({ name: server.path });
      await other.send("warm up");
      await other.receive();
      const baseline = linux ? procStatus(server.pid, "VmRSS") : 0;
      const flooder = await connect({ name: server.path });
      await server.until(() => server.count("connected") === 2, "the flooder to be accepted");
      const flooderId = 2;
      try {
        // Distinct frames (each starts with its number) so that the echoes can be checked.
        const sends: Promise<void>[] = [];
        for (let i = 0; i < frames; i++) {
          const frame = new Uint8Array(frameSize).fill(0x61);
          frame.set(encoder.encode(String(i).padStart(8, "0")));
          sends.push(flooder.send(frame));
        }
        // While the flooder reads nothing, the other client's round trips go on. They also pace
        // a bounded wait for the server to stop reading the flooder, the one thing here that has
        // no event: its message count unchanged over 20 round trips.
        let rounds = 0;
        for (let quiet = 0, last = -1; quiet < 20; rounds++) {
          assert(rounds < 5000, "the server never stopped reading the flooder");
          await other.send(`round ${rounds}`);
          assertEquals(decoder.decode((await other.receive())!), `round ${rounds}`);
          const taken = server.count("message", flooderId);
          assert(taken < frames, "the server took all 200 MiB from a client that reads nothing");
          quiet = taken === last ? quiet + 1 : 0;
          last = taken;
        }
        if (linux) {
          const stalled = procStatus(server.pid, "VmRSS");
          assertLessOrEqual(stalled - baseline, 64 * 1024 * 1024, `RSS grew ${stalled - baseline}`);
        }
        // Now read: every echo comes back whole and in order.
        for (let i = 0; i < frames; i++) {
          const echo = await flooder.receive();
          assert(echo !== null, `the flooder was dropped after ${i} echoes`);
          assertEquals(echo.length, frameSize);
          assertEquals(decoder.decode(echo.subarray(0, 8)), String(i).padStart(8, "0"));
        }
        await Promise.all(sends);
      } finally {
        await flooder.close();
      }
      if (linux) {
        const peak = procStatus(server.pid, "VmHWM");
        assertLessOrEqual(peak - baseline, 128 * 1024 * 1024, `peak RSS grew ${peak - baseline}`);
      }
    } finally {
      await removeQuietly(dir);
    }
  },
});

/** What a receiver of `stream` sees: the frames before any error, and the error's message. */
