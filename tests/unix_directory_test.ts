/**
 * duct's own socket directory on Unix (issue 18): a directory another server opened with
 * `allowOthers` stays open while that server's socket is there, `allowOthers` where others cannot
 * enter is refused at start, and only duct's own directory is ever created (a missing
 * `XDG_RUNTIME_DIR` is reported, not made up).
 */

import { InvalidNameError, PermissionDeniedError } from "../lib/errors.ts";
import { listen } from "../lib/mod.ts";
import { unixTransport } from "../lib/unix/transport.ts";
import { assertEquals, assertRejects, assertStringIncludes } from "./_assert.ts";
import { removeQuietly, tempDir } from "./_endpoints.ts";

const ignore = Deno.build.os === "windows";

function mode(path: string): string {
  return ((Deno.lstatSync(path).mode ?? 0) & 0o777).toString(8);
}

Deno.test({
  name: "unix directory: a server without allowOthers leaves open a directory a live one opened",
  ignore,
  async fn() {
    const tmp = await tempDir("dir-open");
    try {
      await Deno.chmod(tmp, 0o755);
      // Named like duct's own directory, so that its mode is duct's to set.
      const directory = `${tmp}/duct`;
      await Deno.mkdir(directory, { mode: 0o700 });
      const shared = await listen({ name: `${directory}/shared.sock`, allowOthers: true });
      assertEquals(mode(directory), "711");
      {
        await using _private = await listen({ name: `${directory}/private.sock` });
        assertEquals(mode(directory), "711", "the shared server's directory stays reachable");
        assertEquals(mode(`${directory}/private.sock`), "600", "privacy is the socket's mode");
      }
      // Once no socket in it is shared, the next server closes it again.
      shared.close();
      await using _last = await listen({ name: `${directory}/last.sock` });
      assertEquals(mode(directory), "700");
    } finally {
      await removeQuietly(tmp);
    }
  },
});

Deno.test({
  name: "unix directory: allowOthers under a directory others cannot enter is refused, naming it",
  ignore,
  async fn() {
    const tmp = await tempDir("dir-closed");
    try {
      // As /run/user/UID, the usual XDG_RUNTIME_DIR, is.
      await Deno.chmod(tmp, 0o700);
      const path = `${tmp}/duct/x.sock`;
      const error = await assertRejects(
        () => unixTransport.listen({ name: "x", path, allowOthers: true, managedDirectory: true }),
        PermissionDeniedError,
      );
      assertStringIncludes(error.message, `they cannot enter ${tmp} (mode 0700)`);
      assertStringIncludes(error.message, "unset XDG_RUNTIME_DIR");
      // A directory of the user's choice is checked the same way.
      await Deno.mkdir(`${tmp}/mine`, { mode: 0o700 });
      await assertRejects(
        () => listen({ name: `${tmp}/mine/y.sock`, allowOthers: true }),
        PermissionDeniedError,
        `they cannot enter ${tmp}/mine`,
      );
      // Without allowOthers the same places are fine.
      await using _private = await listen({ name: `${tmp}/mine/y.sock` });
    } finally {
      await removeQuietly(tmp);
    }
  },
});

Deno.test({
  name: "unix directory: a missing XDG_RUNTIME_DIR is reported, not created",
  ignore,
  async fn() {
    const tmp = await tempDir("dir-missing");
    try {
      const runtime = `${tmp}/run/user/1000`;
      const error = await assertRejects(
        () =>
          unixTransport.listen({
            name: "x",
            path: `${runtime}/duct/x.sock`,
            managedDirectory: true,
          }),
        InvalidNameError,
      );
      assertEquals(
        error.message,
        `cannot listen on ${runtime}/duct/x.sock: ${runtime} (from XDG_RUNTIME_DIR) does not ` +
          `exist; create it, or set XDG_RUNTIME_DIR to a directory that exists (or unset it)`,
      );
      await assertRejects(() => Deno.lstat(`${tmp}/run`), Deno.errors.NotFound);
    } finally {
      await removeQuietly(tmp);
    }
  },
});
