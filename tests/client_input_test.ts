/**
 * `client.ts --input line|nul|whole` against the real server, and `cli/client_input.ts`'s
 * cutting of stdin; and a reply in another framing's delimiter named as a framing mismatch.
 *
 * @module
 */

import { assertEquals, assertStringIncludes } from "./_assert.ts";
import { Server } from "./_server.ts";
import { runClient } from "./_run.ts";
import { inputBatches } from "../cli/client_input.ts";

const encoder = new TextEncoder();

/** The payloads the server printed, as bytes (its --json gives text or base64). */
function payloads(server: Server): Uint8Array[] {
  return server.eventsOf("message").map((event) =>
    typeof event.base64 === "string"
      ? Uint8Array.fromBase64(event.base64)
      : encoder.encode(event.text as string)
  );
}

async function cut(input: Uint8Array[], mode: "line" | "nul" | "whole"): Promise<string[]> {
  const out: string[] = [];
  const stop = new Promise<void>(() => {});
  const batches = inputBatches(ReadableStream.from(input), { input: mode, maxFrame: 64, stop });
  for await (const batch of batches) {
    for (const message of batch) out.push(new TextDecoder().decode(message));
  }
  return out;
}

Deno.test("inputBatches: line drops \\r before \\n; nul splits at NUL only; whole is one message", async () => {
  const chunks = [encoder.encode("a\r\nb\0c"), encoder.encode("\nd\0")];
  assertEquals(await cut(chunks, "line"), ["a", "b\0c", "d\0"]);
  assertEquals(await cut(chunks, "nul"), ["a\r\nb", "c\nd"]);
  assertEquals(await cut(chunks, "whole"), ["a\r\nb\0c\nd\0"]);
  // An empty input is one empty message whole, and none cut in lines.
  assertEquals(await cut([], "whole"), [""]);
  assertEquals(await cut([], "line"), []);
});

Deno.test("client --input whole: a 3,000-byte binary file arrives as one 3,000-byte message", async () => {
  await using server = await Server.start();
  const file = crypto.getRandomValues(new Uint8Array(3000));
  const output = await runClient(["--name", server.name, "--input", "whole"], { input: file });
  assertEquals(output.code, 0, output.stderr);
  await server.waitForCount("disconnected", 1);
  assertEquals(payloads(server), [file]);
});

Deno.test("client --input whole: input over --max-frame is refused, nothing sent", async () => {
  await using server = await Server.start();
  const output = await runClient(
    ["--name", server.name, "--input", "whole", "--max-frame", "1k"],
    { input: new Uint8Array(1025) },
  );
  assertEquals(output.code, 1);
  assertEquals(
    output.stderr,
    "duct-client: error: the input is larger than --max-frame (1024 bytes); nothing was sent\n",
  );
});

Deno.test("client --input nul: NUL-separated records, as xargs -0 reads them", async () => {
  await using server = await Server.start();
  const input = encoder.encode("one\0two lines\nstill two\0three\r\0");
  const output = await runClient(["--name", server.name, "--input", "nul"], { input });
  assertEquals(output.code, 0, output.stderr);
  await server.waitForCount("disconnected", 1);
  assertEquals(payloads(server), [
    encoder.encode("one"),
    encoder.encode("two lines\nstill two"),
    encoder.encode("three\r"),
  ]);
});

Deno.test("client --input: a wrong mode, or with MESSAGE arguments, is a usage error", async () => {
  const wrong = await runClient(["--input", "words"]);
  assertEquals(wrong.code, 64);
  assertStringIncludes(wrong.stderr, `--input must be one of line, nul, whole, not "words"`);
  const both = await runClient(["--input", "nul", "x"]);
  assertEquals(both.code, 64);
  assertStringIncludes(both.stderr, "--input says how to cut stdin");
});

Deno.test("client: a line client against a nul server is told of the framing mismatch, not exit 0", async () => {
  await using server = await Server.start(["--framing", "nul"]);
  const output = await runClient(["--name", server.name, "--framing", "line"], {
    input: "hello\n",
  });
  assertEquals(output.code, 3, output.stderr);
  assertStringIncludes(
    output.stderr,
    "the server's reply ends in a NUL byte (\\0), the end of a --framing nul frame: does the " +
      "server use --framing nul? this client uses line",
  );
  assertEquals(output.stdout, "");
});
