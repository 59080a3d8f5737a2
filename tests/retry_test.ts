import { retryUntil } from "../lib/retry.ts";
import { assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";

class GaveUp extends Error {}

Deno.test("retryUntil: tries again while the attempt says not yet, then returns its value", async () => {
  let calls = 0;
  const value = await retryUntil(() => Promise.resolve(++calls < 4 ? undefined : "ready"), {
    timeout: 10_000,
    timedOut: () => new GaveUp(),
  });
  assertEquals([value, calls], ["ready", 4]);
});

Deno.test("retryUntil: throws the timeout error once the time is up, after one attempt at least", async () => {
  let calls = 0;
  await assertRejects(
    () =>
      retryUntil(() => {
        calls++;
        return Promise.resolve(undefined);
      }, { timeout: 0, timedOut: () => new GaveUp("gave up") }),
    GaveUp,
    "gave up",
  );
  assertEquals(calls, 1);
});

Deno.test("retryUntil: an error from the attempt ends the loop at once", async () => {
  let calls = 0;
  const failure = new Error("refused for good");
  const error = await assertRejects(() =>
    retryUntil(() => {
      calls++;
      return Promise.reject(failure);
    }, { timeout: 10_000, timedOut: () => new GaveUp() })
  );
  assertStrictEquals(error, failure);
  assertEquals(calls, 1);
});

Deno.test("retryUntil: an aborted signal stops the waiting with its reason", async () => {
  const controller = new AbortController();
  const reason = new Error("stopped");
  let calls = 0;
  const waiting = retryUntil(() => {
    if (++calls === 2) controller.abort(reason);
    return Promise.resolve(undefined);
  }, { timeout: 10_000, signal: controller.signal, timedOut: () => new GaveUp() });
  const error = await assertRejects(() => waiting);
  assertStrictEquals(error, reason);
  assertEquals(calls, 2);
});
