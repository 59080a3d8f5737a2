/**
 * Hardening, faults: peers killed mid-frame, a server killed under its clients, a restart with a
 * stale socket and a waiting client, thousands of connect/disconnect cycles without a leaked
 * descriptor, and `--max-clients` refusing plainly instead of hanging.
 */

import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import {
  ClientProcess,
  closeQuietly,
  fdCount,
  header,
  NOT_LINUX,
  NOT_UNIX,
  rawConnect,
  removeQuietly,
  runClient,
  ServerProcess,
  tempDir,
} from "./_hardening.ts";
import { connect } from "../lib/mod.ts";

const ACK = "Message received successfully";
const PROBE = new URL("./_connect_probe.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

async function withDir(label: string, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir(label);
  try {
    await body(dir);
  } finally {
    await removeQuietly(dir);
  }
}

/** One round trip on a fresh library connection. */
async function roundTrip(path: string, message: string): Promise<void> {
  await using conn = await connect({ name: path });
  await conn.send(message);
  assertEquals(decoder.decode((await conn.receive())!), ACK);
}

/** A peer that sends a header and part of a frame, says `ready`, and waits to be killed. */
const PARTIAL_PEER = `
const conn = await Deno.connect({ transport: "unix", path: Deno.args[0] });
await conn.write(Uint8Array.of(0, 0, 0x03, 0xe8, ...new TextEncoder().encode("0123456789")));
console.log("ready");
await new Promise(() => {});
`;

Deno.test({
  name: "faults: a client killed mid-frame is dropped alone; the others go on",
  ignore: NOT_UNIX,
  fn: () =>
    withDir("kill-client", async (dir) => {
      await using server = await ServerProcess.start(["--name", `${dir}/s.sock`]);
      await using bystander = await connect({ name: server.path });
      await bystander.send("before");
      assertEquals(decoder.decode((await bystander.receive())!), ACK);

      // SIGKILL with 10 of a frame's 1000 bytes sent.
      const peerFile = `${dir}/peer.ts`;
      await Deno.writeTextFile(peerFile, PARTIAL_PEER);
      {
        await using peer = new ClientProcess([server.path], { script: peerFile });
        await peer.until(() => peer.stdout.includes("ready"), "the partial frame");
        await server.until(() => server.count("connected") === 2, "the peer to be accepted");
        peer.kill("SIGKILL");
        await server.until(() => server.count("disconnected", 2) === 1, "the peer to be dropped");
        assertEquals(
          server.of(2).find((event) => event.event === "error")?.message,
          "connection closed in the middle of a frame (10 of 1000 bytes)",
        );
      }

      // SIGKILL of a real client in the middle of a stream of messages.
      {
        await using client = new ClientProcess(["--name", server.path]);
        const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join("");
        const writing = client.write(lines);
        await server.until(() => server.count("message", 3) >= 100, "the stream to flow");
        client.kill("SIGKILL");
        await writing;
        await server.until(() => server.count("disconnected", 3) === 1, "the client to be dropped");
      }

      await bystander.send("after");
      assertEquals(decoder.decode((await bystander.receive())!), ACK);
      assert(!server.exited);
    }),
});

Deno.test({
  name: "faults: the server killed while clients send — each client says how many messages " +
    "were not confirmed and exits 3",
  ignore: NOT_UNIX,
  fn: () =>
    withDir("kill-server", async (dir) => {
      const server = await ServerProcess.start(["--name", `${dir}/s.sock`]);
      const clients = [0, 1, 2].map(() => new ClientProcess(["--name", server.path, "--json"]));
      try {
        // Input keeps coming until the crash, so every client is mid-stream when it happens
        // (one that had finished would rightly exit 0).
        let feeding = true;
        const written = [0, 0, 0];
        const feeders = clients.map(async (client, i) => {
          while (feeding) {
            const lines = Array.from({ length: 500 }, (_, j) =>
              `client ${i} message ${written[i] + j}\n`);
            if (!await client.write(lines.join(""))) {
              return;
            }
            written[i] += 500;
          }
        });
        await server.until(
          () =>
            [1, 2, 3].every((id) => server.count("message", id) >= 500),
          "every client to be mid-stream",
        );
        server.kill("SIGKILL");
        await server.status;
        feeding = false;
        // (A client stops reading its input once the server is gone, so the feeders end.)
        await Promise.all(feeders);
        for (const client of clients) await client.closeStdin();
        for (const [index, client] of clients.entries()) {
          const status = await client.status;
          assertEquals(status.code, 3, client.stderr);
          const match = /: (\d+) of (\d+) messages were not confirmed/.exec(client.stderr);
          assert(match, client.stderr);
          const [unconfirmed, sent] = [Number(match[1]), Number(match[2])];
          const confirmed = client.stdout.split("\n").filter((line) => line !== "").length;
          // The server's own record of this client (its ids follow the order of connection).
          const id = server.events.find((event) =>
            event.event === "message" && event.text?.startsWith(`client ${index} `)
          )!.client!;
          const printed = server.count("message", id);
          // The ledger adds up: sent = confirmed + reported, and nothing was confirmed that the
          // server had not printed, nor printed that the client had not sent.
          assertEquals(unconfirmed, sent - confirmed, client.stderr);
          assert(confirmed <= printed && printed <= sent, `${confirmed} ${printed} ${sent}`);
          // (A batch still being written may have been read in part.)
          assert(sent <= written[index] + 500, `sent ${sent} of ${written[index]}+ lines`);
        }
      } finally {
        for (const client of clients) await client[Symbol.asyncDispose]();
        await server.stop();
      }
    }),
});

Deno.test({
  name: "faults: after a crash the restarted server reclaims the stale socket, and a client " +
    "waiting with --timeout connects once it is back",
  ignore: NOT_UNIX,
  fn: () =>
    withDir("restart", async (dir) => {
      const path = `${dir}/s.sock`;
      const first = await ServerProcess.start(["--name", path]);
      first.kill("SIGKILL");
      await first.status;
      assert(Deno.lstatSync(path).isSocket, "the crashed server's socket should be left behind");
      // A second name keeps the stale socket's inode alive, to tell it from the new one.
      const witness = `${dir}/witness.sock`;
      await Deno.link(path, witness);

      // The client starts while nobody listens and keeps trying (the probe reports each try).
      await using client = new ClientProcess(["--name", path, "--timeout", "60", "are you back"], {
        denoArgs: ["--preload", PROBE],
      });
      const attempts = () => client.stderr.split("duct-test: connect attempt").length - 1;
      await client.until(() => attempts() >= 3, "the client to retry");

      await using second = await ServerProcess.start(["--name", path]);
      assertEquals(second.stderr, "");
      assert(Deno.lstatSync(path).ino !== Deno.lstatSync(witness).ino, "the stale socket stayed");
      assertEquals(Deno.lstatSync(witness).nlink, 1, "the stale socket was not removed");
      const status = await client.status;
      assertEquals(status.code, 0, client.stderr);
      assertEquals(client.stdout, `server: ${ACK}\n`);
      await second.until(() => second.count("message") === 1, "the waiting client's message");
      assertEquals(second.events.find((event) => event.event === "message")?.text, "are you back");
    }),
});

Deno.test({
  name: "faults: 5,000 connect/disconnect cycles leak no file descriptor",
  ignore: NOT_LINUX,
  fn: () =>
    withDir("cycles", async (dir) => {
      await using server = await ServerProcess.start(["--name", `${dir}/s.sock`]);
      const path = server.path;
      let cycles = 0;
      // Mixed departures: silent, after a whole message and its ack, in the middle of a frame.
      const cycle = async (n: number) => {
        const conn = await rawConnect(path);
        try {
          if (n % 5 === 0) {
            await conn.write(Uint8Array.of(...header(2), 0x68, 0x69));
            const reply = new Uint8Array(4 + ACK.length);
            for (let got = 0; got < reply.length;) {
              const count = await conn.read(reply.subarray(got));
              assert(count !== null, `cycle ${n}: no ack`);
              got += count;
            }
          } else if (n % 7 === 0) {
            await conn.write(header(100));
          }
        } finally {
          closeQuietly(conn);
        }
        cycles++;
      };
      const run = async (from: number, count: number, parallel: number) => {
        let next = from;
        await Promise.all(Array.from({ length: parallel }, async () => {
          while (next < from + count) await cycle(next++);
        }));
        await server.until(
          () => server.count("disconnected") === from + count,
          `${from + count} clients to be gone`,
        );
      };
      // Warm up, so that descriptors the runtime opens once are already there.
      await run(0, 50, 4);
      const before = fdCount(server.pid);
      await run(50, 5000, 8);
      const after = fdCount(server.pid);
      assertEquals(cycles, 5050);
      assertEquals(server.count("connected"), 5050);
      assertEquals(after, before, `descriptors: ${before} before, ${after} after`);
      await roundTrip(path, "still serving");
    }),
});

Deno.test({
  name: "faults: with --max-clients N, client N+1 gets a clear error and exit 3, never a hang",
  ignore: NOT_UNIX,
  fn: () =>
    withDir("max-clients", async (dir) => {
      await using server = await ServerProcess.start([
        "--name",
        `${dir}/s.sock`,
        "--max-clients",
        "2",
      ]);
      const first = await connect({ name: server.path });
      await using _second = await connect({ name: server.path });
      try {
        await server.until(() => server.count("connected") === 2, "two clients");
        const refused = await runClient(["--name", server.path, "--timeout", "2", "third"]);
        assertEquals(refused.code, 3, refused.stderr);
        assertStringIncludes(refused.stderr, "1 of 1 messages were not confirmed");
        assertStringIncludes(refused.stderr, "--max-clients");
        const event = server.events.find((each) => each.event === "refused");
        assertEquals(event?.message, "--max-clients 2 reached");
        assertEquals(server.count("message"), 0);
      } finally {
        await first.close();
      }
      // Once a place is free, the next client is served.
      await server.until(() => server.count("disconnected", 1) === 1, "a place to be freed");
      const served = await runClient(["--name", server.path, "fourth"]);
      assertEquals(served.code, 0, served.stderr);
      assertEquals(served.stdout, `server: ${ACK}\n`);
    }),
});
