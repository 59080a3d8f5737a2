/**
 * The assertions the tests use, with the signatures of `@std/assert`, built on
 * `node:assert/strict` because JSR is not reachable here. Switching to `@std/assert` means
 * replacing this file with `export { … } from "jsr:@std/assert";`.
 *
 * @module
 */

import nodeAssert from "node:assert/strict";

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg?: string): asserts expr {
  nodeAssert.ok(expr, msg);
}

/** Asserts deep equality (typed arrays compared by content). */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts `Object.is` equality. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  nodeAssert.strictEqual(actual, expected, msg);
}

/** Asserts `!Object.is(actual, expected)`. */
export function assertNotStrictEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notStrictEqual(actual, expected, msg);
}

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<E extends Error>(
  actual: unknown,
  expectedType: ErrorClass<E>,
  msg?: string,
): asserts actual is E {
  nodeAssert.ok(
    actual instanceof expectedType,
    msg ?? `expected an instance of ${expectedType.name}, got ${String(actual)}`,
  );
}

/** Asserts `actual <= expected`. */
export function assertLessOrEqual(actual: number, expected: number, msg?: string): void {
  nodeAssert.ok(actual <= expected, msg ?? `expected ${actual} <= ${expected}`);
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    msg ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
  );
}

function checkError<E extends Error>(
  error: unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  if (ErrorClass !== undefined) assertInstanceOf(error, ErrorClass);
  if (msgIncludes !== undefined) assertStringIncludes((error as Error).message, msgIncludes);
  return error as E;
}

/** Asserts that `fn` throws (an instance of `ErrorClass`, with `msgIncludes` in its message). */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, ErrorClass, msgIncludes);
  }
  throw new nodeAssert.AssertionError({ message: "expected the function to throw" });
}

/**
 * Asserts that the promise `fn` returns rejects (like {@linkcode assertThrows}); a synchronous
 * throw fails the assertion.
 */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  let promise: PromiseLike<unknown>;
  try {
    promise = fn();
  } catch (error) {
    // As in @std/assert: a synchronous throw is not a rejection.
    throw new nodeAssert.AssertionError({
      message: `expected a rejected promise, but the function threw: ${error}`,
    });
  }
  try {
    await promise;
  } catch (error) {
    return checkError(error, ErrorClass, msgIncludes);
  }
  throw new nodeAssert.AssertionError({ message: "expected the promise to reject" });
}

/** Asserts that `actual` matches the regular expression `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, msg);
}
