/**
 * Tests of `cli/client_call.ts` through `client.ts`: `--call` and `--notify` against an in-process
 * `serve`, the new exit status 4, `--json`, `--timeout` bounding the reply, and the usage errors.
 *
 * @module
 */

import { listen, RpcError, serve } from "../lib/mod.ts";
import { callArgs } from "../cli/client_call.ts";
import { UsageError } from "../cli/args.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { assertOneLineError, runClient } from "./_run.ts";

async function rpcServer(framing: "content-length" | "length" = "content-length") {
  const name = uniqueName("call");
  const listener = await listen({ name, framing });
  const notes: unknown[] = [];
  const noted = Promise.withResolvers<void>();
  const served = serve(listener, {
    add: (params) => (params as number[]).reduce((a, b) => a + b, 0),
    nothing: () => undefined,
    fail: () => {
      throw new RpcError(-32001, "the widget is out of stock", { data: { widget: 7 } });
    },
    hang: () => new Promise(() => {}),
  }, {
    notifications: {
      note: (params) => {
        notes.push(params);
        noted.resolve();
      },
    },
  });
  return {
    args: ["--name", name, "--framing", framing],
    notes,
    noted: noted.promise,
    async [Symbol.asyncDispose]() {
      listener.close();
      await served;
    },
  };
}

Deno.test("client --call prints the result as JSON and exits 0", async () => {
  await using server = await rpcServer();
  const output = await runClient([...server.args, "--call", "add", "[1, 2, 39]"]);
  assertEquals([output.code, output.stdout, output.stderr], [0, "42\n", ""]);
  const none = await runClient([...server.args, "--call", "nothing"]);
  assertEquals([none.code, none.stdout], [0, "null\n"]);
  const json = await runClient([...server.args, "--call", "add", "[1]", "--json"]);
  assertEquals(JSON.parse(json.stdout), { jsonrpc: "2.0", id: 1, result: 1 });
});

Deno.test("client --call: an error response exits 4 with METHOD failed: MESSAGE (code N)", async () => {
  await using server = await rpcServer("length");
  const output = await runClient([...server.args, "--call", "fail", "{}"]);
  assertEquals(output.code, 4);
  assertEquals(
    output.stderr,
    "duct-client: fail failed: the widget is out of stock (code -32001)\n",
  );
  assertEquals(output.stdout, "");
  const missing = await runClient([...server.args, "--call", "nope"]);
  assertEquals(missing.code, 4);
  assertEquals(missing.stderr, "duct-client: nope failed: Method not found: nope (code -32601)\n");
  const json = await runClient([...server.args, "--call", "fail", "--json"]);
  assertEquals(json.code, 4);
  assertEquals(JSON.parse(json.stdout), {
    jsonrpc: "2.0",
    id: 1,
    error: { code: -32001, message: "the widget is out of stock", data: { widget: 7 } },
  });
});

Deno.test("client --call: --timeout bounds the wait for the reply", async () => {
  await using server = await rpcServer();
  const start = performance.now();
  const output = await runClient([...server.args, "--call", "hang", "--timeout", "0.3"]);
  assertOneLineError(output, "duct-client", "hang: no reply within 0.3 s");
  assertEquals(output.code, 1);
  assert(performance.now() - start < 30_000, "bounded");
});

Deno.test("client --notify sends a notification and exits 0", async () => {
  await using server = await rpcServer();
  const output = await runClient([...server.args, "--notify", "note", '{"text":"hi"}']);
  assertEquals([output.code, output.stdout, output.stderr], [0, "", ""]);
  await server.noted;
  assertEquals(server.notes, [{ text: "hi" }]);
});

Deno.test("client --call: wrong command lines are usage errors", async () => {
  const cases: [Record<string, string | boolean>, string[], string][] = [
    [{ call: "a", notify: "b" }, [], "--call and --notify go one at a time"],
    [{ call: "a", reconnect: true }, [], "--call does not go with --reconnect"],
    [{ notify: "a", "no-reply": true }, [], "--notify does not go with --no-reply"],
    [{ call: "a" }, ["1", "2"], "at most one PARAMS_JSON, not 2 arguments"],
    [{ call: "a" }, ["{bad"], "PARAMS_JSON is not valid JSON"],
    [{ call: "a" }, ["42"], "PARAMS_JSON must be a JSON array or object, not 42"],
  ];
  for (const [values, positionals, message] of cases) {
    assertThrows(() => callArgs(values, positionals), UsageError, message);
  }
  const output = await runClient(["--call", "a", "7"]);
  assertEquals(output.code, 64);
  assertOneLineError(output, "duct-client", "PARAMS_JSON must be a JSON array or object");
});
