/**
 * The assertions the tests use: `@std/assert`, re-exported so that the tests' imports of
 * `./_assert.ts` (from before JSR was reachable here) keep working; new code imports
 * `@std/assert` directly.
 *
 * @module
 */

export {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLessOrEqual,
  assertMatch,
  assertNotStrictEquals,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
