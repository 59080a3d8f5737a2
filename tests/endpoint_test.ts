import {
  DEFAULT_NAME,
  defaultDirectory,
  PIPE_PREFIX,
  resolveEndpoint,
  type ResolveOptions,
} from "../lib/endpoint.ts";
import { DuctError, InvalidNameError } from "../lib/errors.ts";
import { assertEquals, assertInstanceOf, assertStrictEquals, assertThrows } from "./_assert.ts";

/** An environment lookup backed by a plain object. */
function envOf(vars: Record<string, string>): (key: string) => string | undefined {
  return (key) => vars[key];
}

const XDG: ResolveOptions = {
  os: "linux",
  env: envOf({ XDG_RUNTIME_DIR: "/run/user/1000" }),
  uid: 1000,
};
const NO_XDG: ResolveOptions = { os: "linux", env: envOf({}), uid: 1000 };

// ---------------------------------------------------------------------------------------------
// Windows

Deno.test("windows: a plain name becomes \\\\.\\pipe\\NAME", () => {
  assertStrictEquals(PIPE_PREFIX, "\\\\.\\pipe\\");
  const endpoint = resolveEndpoint("testPipe", { os: "windows" });
  assertEquals(endpoint, {
    name: "testPipe",
    path: "\\\\.\\pipe\\testPipe",
    managedDirectory: false,
    platform: "windows",
  });
});

Deno.test("windows: a name that already has the pipe prefix is kept, in any case", () => {
  assertStrictEquals(
    resolveEndpoint("\\\\.\\pipe\\mine", { os: "windows" }).path,
    "\\\\.\\pipe\\mine",
  );
  assertStrictEquals(
    resolveEndpoint("\\\\.\\PIPE\\Mine", { os: "windows" }).path,
    "\\\\.\\PIPE\\Mine",
  );
});

Deno.test("windows: a name with / is still a pipe name, not a file path", () => {
  assertStrictEquals(resolveEndpoint("a/b", { os: "windows" }).path, "\\\\.\\pipe\\a/b");
});

Deno.test("windows: the whole pipe path may have 256 characters, not 257", () => {
  const longest = "p".repeat(256 - PIPE_PREFIX.length);
  assertStrictEquals(resolveEndpoint(longest, { os: "windows" }).path.length, 256);
  const error = assertThrows(
    () => resolveEndpoint(longest + "p", { os: "windows" }),
    InvalidNameError,
    "at most 256",
  );
  assertInstanceOf(error, DuctError);
  // The limit counts the prefix when the user gives it too.
  assertThrows(
    () => resolveEndpoint(PIPE_PREFIX + longest + "p", { os: "windows" }),
    InvalidNameError,
    "256",
  );
});

Deno.test("windows: empty, prefix-only and NUL-holding names are refused", () => {
  assertThrows(() => resolveEndpoint("", { os: "windows" }), InvalidNameError, "empty");
  assertThrows(() => resolveEndpoint(PIPE_PREFIX, { os: "windows" }), InvalidNameError, "empty");
  assertThrows(() => resolveEndpoint("a\0b", { os: "windows" }), InvalidNameError, "NUL");
});

Deno.test("windows: names with '.', '..' or empty segments are refused (they reach devices)", () => {
  // `\\.\pipe\..\COM1` is `\\.\COM1` once Win32 has parsed it.
  for (const name of ["..\\COM1", "a/../../COM1", "a\\\\b", "a\\", "\\a", ".", "x\\.\\y"]) {
    assertThrows(() => resolveEndpoint(name, { os: "windows" }), InvalidNameError, "segment");
  }
  assertThrows(
    () => resolveEndpoint(`${PIPE_PREFIX}..\\COM1`, { os: "windows" }),
    InvalidNameError,
    'a ".." segment',
  );
  // Dots inside a segment, and a hierarchy, are names like any other.
  for (const name of ["a..b", "LOCAL\\x", ".hidden", "v1.2"]) {
    assertStrictEquals(resolveEndpoint(name, { os: "windows" }).path, PIPE_PREFIX + name);
  }
});

// ---------------------------------------------------------------------------------------------
// Unix

Deno.test("unix: XDG_RUNTIME_DIR/duct/NAME.sock when XDG_RUNTIME_DIR is set", () => {
  assertEquals(resolveEndpoint("testPipe", XDG), {
    name: "testPipe",
    path: "/run/user/1000/duct/testPipe.sock",
    managedDirectory: true,
    platform: "unix",
  });
  // A trailing slash does not double up.
  const slash = { ...XDG, env: envOf({ XDG_RUNTIME_DIR: "/run/user/1000/", TMPDIR: "/t" }) };
  assertStrictEquals(resolveEndpoint("a", slash).path, "/run/user/1000/duct/a.sock");
});

Deno.test("unix: without XDG_RUNTIME_DIR, ${TMPDIR:-/tmp}/duct-UID/NAME.sock", () => {
  assertStrictEquals(resolveEndpoint("testPipe", NO_XDG).path, "/tmp/duct-1000/testPipe.sock");
  const tmpdir = { ...NO_XDG, env: envOf({ TMPDIR: "/var/tmp/" }), uid: 501 };
  assertStrictEquals(resolveEndpoint("x", tmpdir).path, "/var/tmp/duct-501/x.sock");
  // Empty variables count as unset, as with ${VAR:-default}.
  const empty = { ...NO_XDG, env: envOf({ XDG_RUNTIME_DIR: "", TMPDIR: "" }) };
  assertStrictEquals(resolveEndpoint("x", empty).path, "/tmp/duct-1000/x.sock");
  assertStrictEquals(resolveEndpoint("x", { ...NO_XDG, os: "darwin" }).managedDirectory, true);
});

Deno.test("unix: defaultDirectory follows the same rules", () => {
  assertStrictEquals(
    defaultDirectory(envOf({ XDG_RUNTIME_DIR: "/run/user/7" }), 7),
    "/run/user/7/duct",
  );
  assertStrictEquals(defaultDirectory(envOf({ TMPDIR: "/scratch" }), 7), "/scratch/duct-7");
  assertStrictEquals(defaultDirectory(envOf({}), 0), "/tmp/duct-0");
});

Deno.test("unix: a plain name ending in .sock gets no second .sock (issue 18)", () => {
  assertStrictEquals(resolveEndpoint("rel.sock", XDG).path, "/run/user/1000/duct/rel.sock");
  assertStrictEquals(resolveEndpoint("rel", XDG).path, "/run/user/1000/duct/rel.sock");
  assertStrictEquals(resolveEndpoint("a.socket", XDG).path, "/run/user/1000/duct/a.socket.sock");
});

Deno.test("unix: a relative XDG_RUNTIME_DIR or TMPDIR is ignored, as the XDG spec says", () => {
  const relative = envOf({ XDG_RUNTIME_DIR: "run/user/7", TMPDIR: "scratch" });
  assertStrictEquals(defaultDirectory(relative, 7), "/tmp/duct-7");
  const dot = { ...NO_XDG, env: envOf({ XDG_RUNTIME_DIR: "." }) };
  assertStrictEquals(resolveEndpoint("x", dot).path, "/tmp/duct-1000/x.sock");
});

Deno.test("unix: a name containing / is a path, used as is", () => {
  for (const name of ["/srv/app/ipc.sock", "./relative.sock", "dir/name"]) {
    const endpoint = resolveEndpoint(name, XDG);
    assertEquals([endpoint.path, endpoint.managedDirectory], [name, false], name);
  }
});

Deno.test("unix: empty and NUL-holding names are refused", () => {
  assertThrows(() => resolveEndpoint("", XDG), InvalidNameError, "empty");
  assertThrows(() => resolveEndpoint("a\0b", XDG), InvalidNameError, "NUL");
  assertThrows(() => resolveEndpoint("/tmp/a\0b.sock", XDG), InvalidNameError, "NUL");
});

for (const [os, limit] of [["linux", 107], ["darwin", 103]] as const) {
  Deno.test(`unix (${os}): a socket path may have ${limit} bytes, not ${limit + 1}`, () => {
    const options: ResolveOptions = { ...XDG, os };
    const fits = "/" + "a".repeat(limit - 1);
    assertStrictEquals(resolveEndpoint(fits, options).path, fits);
    const error = assertThrows(
      () => resolveEndpoint(fits + "a", options),
      InvalidNameError,
      `at most ${limit} bytes`,
    );
    assertInstanceOf(error, DuctError);
    assertThrows(() => resolveEndpoint(fits + "a", options), InvalidNameError, "sun_path");

    // The limit is in UTF-8 bytes: a two-byte character where one byte was left does not fit.
    const almost = "/" + "a".repeat(limit - 2);
    assertStrictEquals(resolveEndpoint(almost + "b", options).path.length, limit);
    assertThrows(
      () => resolveEndpoint(almost + "é", options),
      InvalidNameError,
      `${limit + 1} bytes`,
    );

    // A plain name counts with its directory and `.sock`: /run/user/1000/duct/ + NAME + .sock.
    const room = limit - "/run/user/1000/duct/".length - ".sock".length;
    assertStrictEquals(resolveEndpoint("n".repeat(room), options).path.length, limit);
    assertThrows(
      () => resolveEndpoint("n".repeat(room + 1), options),
      InvalidNameError,
      `${limit}`,
    );
  });
}

Deno.test("unix: other systems get the smaller (BSD) sun_path limit", () => {
  const options: ResolveOptions = { ...XDG, os: "freebsd" };
  assertStrictEquals(resolveEndpoint("/" + "a".repeat(102), options).path.length, 103);
  assertThrows(() => resolveEndpoint("/" + "a".repeat(103), options), InvalidNameError, "103");
});

Deno.test("the default endpoint name is testPipe", () => {
  assertStrictEquals(DEFAULT_NAME, "testPipe");
});
