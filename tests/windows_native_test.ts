/**
 * Native Windows only (the `windows-latest` job runs these with `deno task test`): what Wine
 * cannot prove, as it runs everything as one user and does not enforce a pipe's DACL nor
 * `PIPE_REJECT_REMOTE_CLIENTS`.
 *
 * - Another, standard, local user is refused by the default DACL and let in with `allowOthers`
 *   (`--allow-others`), asking for what duct's client asks; a client of that user asking for
 *   `GENERIC_WRITE` is refused even then (no `FILE_CREATE_PIPE_INSTANCE` for others). The user is
 *   created with `net user … /add` (the runner is an administrator) and deleted afterwards; the
 *   client runs as that user through `tests/peers/run_as.c` (`CreateProcessWithLogonW`).
 * - `\\localhost\pipe\NAME` (a remote client, through the SMB server) is refused while
 *   `\\.\pipe\NAME` works; a classic C server without the flag is reachable through
 *   `\\localhost` as the control.
 *
 * Skipped with one line elsewhere; under Wine they are reported as not provable there.
 *
 * @module
 */

import { assert, assertEquals } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { peer } from "./_peers.ts";
import { IS_WINDOWS, UNDER_WINE } from "./_process.ts";
import { listen } from "../lib/api.ts";
import { resolveEndpoint } from "../lib/endpoint.ts";
import {
  ERROR_ACCESS_DENIED,
  ERROR_SUCCESS,
  FILE_WRITE_ATTRIBUTES,
  FILE_WRITE_DATA,
  GENERIC_READ,
  GENERIC_WRITE,
} from "../lib/windows/ffi.ts";

const ignore = !IS_WINDOWS || UNDER_WINE;
/** What duct's client asks for, and what most third-party clients ask for. */
const DUCT_ACCESS = hex(GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES);
const READ_WRITE_ACCESS = hex(GENERIC_READ | GENERIC_WRITE);
/** A directory every local user can read: the other user's copy of the client lives there. */
const PUBLIC = "C:\\Users\\Public";

if (!IS_WINDOWS) {
  console.log("windows_native_test: skipped, Windows only");
} else if (UNDER_WINE) {
  console.log(
    "windows_native_test: not provable under Wine (one user, no DACL or remote-client " +
      "enforcement); the windows-latest job runs these tests",
  );
}

function hex(mask: number): string {
  return (mask >>> 0).toString(16);
}

async function run(command: string, args: string[]): Promise<{ code: number; text: string }> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    text: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

Deno.test({
  name: "windows native: another standard user is refused by default, let in with allowOthers",
  ignore,
  async fn() {
    const pipeOpen = await peer("pipe_open");
    const runAs = await peer("run_as");
    const suffix = crypto.randomUUID().slice(0, 8);
    const user = `duct${suffix}`;
    // Meets the default complexity rules: upper, lower, digits, symbols, 20+ characters.
    const password = `Dt-${crypto.randomUUID().slice(0, 18)}-Zq9!`;
    const added = await run("net", ["user", user, password, "/add"]);
    assertEquals(added.code, 0, `net user /add needs an administrator: ${added.text}`);
    const dir = `${PUBLIC}\\duct-${suffix}`;
    try {
      await Deno.mkdir(dir);
      const client = `${dir}\\pipe_open.exe`;
      await Deno.copyFile(pipeOpen, client);
      const asOther = async (path: string, access: string) =>
        (await run(runAs, [user, password, dir, `"${client}" "${path}" ${access}`])).code;

      for (const allowOthers of [false, true]) {
        const name = uniqueName("other");
        const { path } = resolveEndpoint(name);
        await using listener = await listen({ name, allowOthers });
        const accepting = (async () => {
          for await (const conn of listener) await conn.close();
        })();
        // The owner always gets in, with either mask.
        assertEquals((await run(pipeOpen, [path, DUCT_ACCESS])).code, ERROR_SUCCESS);
        assertEquals(
          await asOther(path, DUCT_ACCESS),
          allowOthers ? ERROR_SUCCESS : ERROR_ACCESS_DENIED,
          `another user asking for duct's access, allowOthers ${allowOthers}`,
        );
        // GENERIC_WRITE includes FILE_CREATE_PIPE_INSTANCE: never granted to others.
        assertEquals(await asOther(path, READ_WRITE_ACCESS), ERROR_ACCESS_DENIED);
        listener.close();
        await accepting;
      }
    } finally {
      await run("net", ["user", user, "/delete"]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "windows native: \\\\localhost\\pipe\\NAME is refused as remote, \\\\.\\pipe\\NAME works",
  ignore,
  async fn() {
    const pipeOpen = await peer("pipe_open");
    const name = uniqueName("remote");
    await using listener = await listen({ name });
    const accepting = (async () => {
      for await (const conn of listener) await conn.close();
    })();
    const local = await run(pipeOpen, [`\\\\.\\pipe\\${name}`, DUCT_ACCESS]);
    assertEquals(local.code, ERROR_SUCCESS, local.text);
    const remote = await run(pipeOpen, [`\\\\localhost\\pipe\\${name}`, DUCT_ACCESS]);
    assert(remote.code !== ERROR_SUCCESS, "a remote client got in");

    // The control: a pipe without PIPE_REJECT_REMOTE_CLIENTS is reachable that way, so the
    // refusal above is the flag's doing, not an absent SMB server.
    const controlName = uniqueName("remote-control");
    const server = new Deno.Command(await peer("classic_server"), {
      args: [`\\\\.\\pipe\\${controlName}`, "1"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = server.stdout.getReader();
    await stdout.read(); // "ready"
    stdout.releaseLock();
    const control = await run(pipeOpen, [`\\\\localhost\\pipe\\${controlName}`, READ_WRITE_ACCESS]);
    const done = await server.output();
    assertEquals(control.code, ERROR_SUCCESS, `the control failed (${control.text})`);
    assertEquals(done.code, 0);
    listener.close();
    await accepting;
  },
});
