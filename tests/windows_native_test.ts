/**
 * Native Windows only (the `windows-latest` job runs these with `deno task test`): what Wine
 * cannot prove, as it runs everything as one user and does not enforce a pipe's DACL nor
 * `PIPE_REJECT_REMOTE_CLIENTS`.
 *
 * - Another, standard, local user is refused by the default DACL and let in with `allowOthers`
 *   (`--allow-others`), asking for what duct's client asks; a client of that user asking for
 *   `GENERIC_WRITE` is refused even then (no `FILE_CREATE_PIPE_INSTANCE` for others). The user is
 *   created with `net user … /add` (the runner is an administrator) and deleted afterwards; the
 *   client runs as that user through `tests/peers/run_as.c` (`CreateProcessWithLogonW`, which
 *   needs the Secondary Logon service: the workflow starts it; without it these tests are skipped
 *   with a line saying so). Its password has 14 characters: for a longer one `net user` asks
 *   "(Y/N)" and waits (chef/knife-ec2#470, puppetlabs/puppet#7792); stdin is null all the same.
 * - A pipe that user creates first (a classic server with a NULL DACL) is refused by duct's
 *   client, which reads its owner, before a byte is sent, and accepted with `trustServer: "any"`.
 * - `\\localhost\pipe\NAME` (a remote client, through the SMB server) is refused while
 *   `\\.\pipe\NAME` works; a classic C server without the flag is reachable through
 *   `\\localhost` as the control.
 *
 * Skipped with one line elsewhere; under Wine they are reported as not provable there.
 *
 * @module
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "./_assert.ts";
import { ACK } from "../server.ts";
import { PermissionDeniedError } from "../lib/errors.ts";
import { uniqueName } from "./_endpoints.ts";
import { peer } from "./_peers.ts";
import { IS_WINDOWS, UNDER_WINE } from "./_process.ts";
import { connect, listen } from "../lib/api.ts";
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
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    text: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

// CreateProcessWithLogonW needs the Secondary Logon service (seclogon).
const SECLOGON = ignore ? false : (await run("sc", ["query", "seclogon"])).text.includes("RUNNING");
if (!ignore && !SECLOGON) {
  console.log(
    "windows_native_test: the Secondary Logon service (seclogon) is not running, so the tests " +
      "that run a program as another user are skipped; start it with Start-Service seclogon",
  );
}

/** A throwaway standard user and a directory it can read, with copies of the given peers. */
async function withOtherUser(
  peers: string[],
  body: (user: { name: string; password: string; dir: string; exes: string[] }) => Promise<void>,
): Promise<void> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const name = `duct${suffix}`;
  // 14 characters (net user asks "(Y/N)" beyond 14), upper, lower, digits and a symbol.
  const password = `Dq7-${crypto.randomUUID().slice(0, 8)}Zx`;
  const added = await run("net", ["user", name, password, "/add"]);
  assertEquals(added.code, 0, `net user /add needs an administrator: ${added.text}`);
  const dir = `${PUBLIC}\\duct-${suffix}`;
  try {
    await Deno.mkdir(dir);
    const exes = [];
    for (const each of peers) {
      const copy = `${dir}\\${each}.exe`;
      await Deno.copyFile(await peer(each), copy);
      exes.push(copy);
    }
    await body({ name, password, dir, exes });
  } finally {
    await run("net", ["user", name, "/delete"]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "windows native: another standard user is refused by default, let in with allowOthers",
  ignore: ignore || !SECLOGON,
  async fn() {
    const pipeOpen = await peer("pipe_open");
    const runAs = await peer("run_as");
    await withOtherUser(["pipe_open"], async ({ name: user, password, dir, exes: [client] }) => {
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
    });
  },
});

Deno.test({
  name: "windows native: a pipe another user created is refused before sending, unless " +
    "trustServer is any",
  ignore: ignore || !SECLOGON,
  async fn() {
    const runAs = await peer("run_as");
    await withOtherUser(["classic_server"], async ({ name: user, password, dir, exes }) => {
      const name = uniqueName("squatted");
      const { path } = resolveEndpoint(name);
      // Their server takes the name first, open to anyone, for two clients in turn.
      const serving = run(runAs, [user, password, dir, `"${exes[0]}" "${path}" 2 open`]);
      const error = await assertRejects(
        () => connect({ name, framing: "nul", timeout: 60_000 }),
        PermissionDeniedError,
      );
      assertStringIncludes(error.message, `the endpoint ${name} (${path}) is owned by `);
      assertStringIncludes(error.message, `\\${user}, not by you; nothing was sent`);
      const conn = await connect({ name, framing: "nul", timeout: 30_000, trustServer: "any" });
      await conn.send("hello");
      const reply = await conn.receive();
      assertEquals(reply && new TextDecoder().decode(reply), ACK);
      await conn.close();
      const done = await serving;
      assertEquals(done.code, 0, done.text);
    });
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
