/**
 * Hardening, access: nobody but the server's user reaches its endpoint unless `--allow-others`
 * says so, and a symlink or foreign-owned file where the socket or its directory should be is
 * refused, never followed. Unix only (Windows pipe ACLs are tested with the Windows transport).
 */

import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { ACK } from "../server.ts";
import { removeQuietly, tempDir } from "./_endpoints.ts";
import { canCreateUsers, OtherUser } from "./_other_user.ts";
import { IS_WINDOWS } from "./_process.ts";
import { runClient } from "./_run.ts";
import { SERVER_SCRIPT } from "./_process.ts";
import { Server } from "./_server.ts";

const ROOT_ONLY = IS_WINDOWS || Deno.uid() !== 0;
const LISTEN_PROBE = new URL("./_listen_probe.ts", import.meta.url).pathname;
const NO_OTHER_USER = IS_WINDOWS || !canCreateUsers();
/** A uid that is not ours, for files made to look foreign (root can chown to any id). */
const FOREIGN_UID = 65534;

/** A parent directory others may traverse, like `/tmp`, so that duct's own modes are what guard. */
async function sharedTmp(label: string): Promise<string> {
  const dir = await tempDir(label);
  await Deno.chmod(dir, 0o755);
  return dir;
}

/** Environment that puts the default socket directory at `${tmp}/duct-UID`. */
function fallbackEnv(tmp: string): Record<string, string> {
  return { XDG_RUNTIME_DIR: "", TMPDIR: tmp };
}

function mode(path: string): number {
  return (Deno.lstatSync(path).mode ?? 0) & 0o777;
}

async function serverFails(args: string[], env?: Record<string, string>) {
  const server = await Server.start(args, { env, waitListening: false });
  const status = await server.waitForExit("server to exit");
  return { code: status.code, stderr: server.stderr, events: server.events };
}

Deno.test({
  name: "access: the per-user directory is 0700 and the socket 0600, both owned by the user",
  ignore: IS_WINDOWS,
  async fn() {
    const tmp = await sharedTmp("access-modes");
    try {
      const directory = `${tmp}/duct-${Deno.uid()}`;
      // An existing duct directory that others could read is tightened, not trusted as it is.
      await Deno.mkdir(directory, { mode: 0o755 });
      await Deno.chmod(directory, 0o755);
      await using server = await Server.start(["--name", "modes"], {
        env: fallbackEnv(tmp),
      });
      assertEquals(server.path, `${directory}/modes.sock`);
      assertEquals(mode(directory).toString(8), "700");
      assertEquals(mode(server.path).toString(8), "600");
      assertEquals(Deno.lstatSync(directory).uid, Deno.uid());
      assertEquals(Deno.lstatSync(server.path).uid, Deno.uid());
      assert(Deno.lstatSync(server.path).isSocket);
    } finally {
      await removeQuietly(tmp);
    }
  },
});

Deno.test({
  name: "access: the socket is owner-only from the moment it is bound, even under umask 000",
  ignore: IS_WINDOWS,
  async fn() {
    const tmp = await sharedTmp("access-umask");
    try {
      // A directory anyone may reach, where only the socket's own mode guards it.
      await using server = await Server.start(["--name", `${tmp}/s.sock`], {
        umask: 0,
        denoArgs: ["--preload", LISTEN_PROBE],
      });
      assertStringIncludes(server.stderr, "duct-test: socket bound with mode 600");
      assertEquals(mode(server.path).toString(8), "600");
      // With --allow-others too: opened up deliberately, after binding, never by the umask.
      await using allowed = await Server.start(
        ["--name", `${tmp}/shared.sock`, "--allow-others"],
        { umask: 0, denoArgs: ["--preload", LISTEN_PROBE] },
      );
      assertStringIncludes(allowed.stderr, "duct-test: socket bound with mode 600");
      assertEquals(mode(allowed.path).toString(8), "666");
    } finally {
      await removeQuietly(tmp);
    }
  },
});

Deno.test({
  name: "access: another local user gets a permission error and the server logs nothing of it",
  ignore: NO_OTHER_USER,
  async fn() {
    const tmp = await sharedTmp("access-deny");
    await using other = await OtherUser.create();
    try {
      // Guarded by the 0700 directory (the default name) ...
      await using managed = await Server.start(["--name", "deny"], {
        env: fallbackEnv(tmp),
      });
      // ... and by the 0600 socket alone, in a directory that anyone may traverse.
      const open = `${tmp}/open`;
      await Deno.mkdir(open);
      await Deno.chmod(open, 0o755);
      await using chosen = await Server.start(["--name", `${open}/deny.sock`]);
      for (const server of [managed, chosen]) {
        // The other user's default directory has its own uid in it, so it names the path.
        const result = await runClient(["--name", server.path, "--timeout", "1", "intruder"], {
          user: other,
        });
        assertEquals(result.code, 1, result.stderr);
        assertStringIncludes(result.stderr, "permission denied");
        assertStringIncludes(result.stderr, server.path);
        assertStringIncludes(result.stderr, "--allow-others");
        // Which of the two keeps the user out is said, so that nobody is told to use a flag
        // already used: the 0700 directory, or the socket's own mode.
        if (server === managed) {
          assertStringIncludes(result.stderr, `you cannot enter ${tmp}/duct-${Deno.uid()};`);
        } else {
          assertStringIncludes(result.stderr, "does not let others connect");
        }
        // Our own client then is the server's first and only one.
        const own = await runClient(["--name", server.path, "owner"]);
        assertEquals(own.code, 0, own.stderr);
        await server.until(() => server.count("disconnected") > 0, "our client to leave");
        const seen = server.events.filter((event) => event.event !== "listening");
        assertEquals(seen.map((event) => [event.event, event.client, event.text]), [
          ["connected", 1, undefined],
          ["message", 1, "owner"],
          ["disconnected", 1, undefined],
        ]);
      }
    } finally {
      await removeQuietly(tmp);
    }
  },
});

Deno.test({
  name: "access: --allow-others lets another local user connect (directory 0711, socket 0666)",
  ignore: NO_OTHER_USER,
  async fn() {
    const tmp = await sharedTmp("access-allow");
    await using other = await OtherUser.create();
    try {
      await using server = await Server.start(["--name", "shared", "--allow-others"], {
        env: fallbackEnv(tmp),
      });
      const directory = `${tmp}/duct-${Deno.uid()}`;
      assertEquals(mode(directory).toString(8), "711");
      assertEquals(mode(server.path).toString(8), "666");
      const result = await runClient(["--name", server.path, "--json", "visitor"], {
        user: other,
      });
      assertEquals(result.code, 0, result.stderr);
      assertEquals(JSON.parse(result.stdout), {
        event: "reply",
        text: ACK,
      });
      await server.until(() => server.count("message") === 1, "the visitor's message");
      assertEquals(server.events.find((event) => event.event === "message")?.text, "visitor");
      // Others may traverse the directory but not list it.
      const listing = await new Deno.Command("/usr/bin/setpriv", {
        args: [`--reuid=${other.uid}`, `--regid=${other.gid}`, "--clear-groups", "ls", directory],
        stdout: "null",
        stderr: "null",
      }).output();
      assert(!listing.success, "another user could list the socket directory");
      // Another server started meanwhile in the same directory, without the flag, keeps it open:
      // its own socket is private by its mode (issue 18).
      {
        await using _other = await Server.start(["--name", "private"], { env: fallbackEnv(tmp) });
        assertEquals(mode(directory).toString(8), "711");
        assertEquals(mode(_other.path).toString(8), "600");
        const again = await runClient(["--name", server.path, "--json", "again"], { user: other });
        assertEquals(again.code, 0, again.stderr);
      }
      // The relaxation lasts as long as that server: the next one without the flag tightens it.
      await server.stop();
      await using strict = await Server.start(["--name", "shared"], {
        env: fallbackEnv(tmp),
      });
      assertEquals(mode(directory).toString(8), "700");
      assertEquals(mode(strict.path).toString(8), "600");
    } finally {
      await removeQuietly(tmp);
    }
  },
});

Deno.test({
  name: "access: a client refuses a socket another user owns (unless --trust-server any), " +
    "and accepts root's",
  ignore: NO_OTHER_USER,
  async fn() {
    const tmp = await sharedTmp("access-trust");
    await using other = await OtherUser.create();
    try {
      // The other user's server, open to all, at a path in a directory anyone may write to: what
      // a user squatting a name a client was told to use would set up.
      const shared = `${tmp}/shared`;
      await Deno.mkdir(shared);
      await Deno.chmod(shared, 0o1777);
      const theirs = `${shared}/theirs.sock`;
      await using squatter = other.spawn(SERVER_SCRIPT, [
        "--name",
        theirs,
        "--allow-others",
        "--json",
      ]);
      await squatter.waitForEvent((event) => event.event === "listening", "their server");
      assertEquals(Deno.lstatSync(theirs).uid, other.uid);
      // We are root here: root's client trusts only root's endpoints.
      const refused = await runClient(["--name", theirs, "--timeout", "1", "secret"]);
      assertEquals(refused.code, 1, refused.stderr);
      assertStringIncludes(
        refused.stderr,
        `the endpoint ${theirs} (${theirs}) is owned by ${other.name} (uid ${other.uid}), not by you`,
      );
      assertStringIncludes(refused.stderr, "--trust-server any");
      // Refused before connecting: their server saw no client at all.
      const ping = await runClient(["--ping", "--name", theirs, "--trust-server", "any"]);
      assertEquals(ping.code, 0, ping.stderr);
      await squatter.waitForEvent((event) => event.event === "disconnected", "the ping");
      const clients = squatter.events.filter((event) => event.client !== undefined);
      assertEquals(clients.map((event) => event.event), ["connected", "disconnected"]);
      assert(!squatter.stdout.includes("secret"), squatter.stdout);
      // Told to trust any owner, the client talks to it.
      const trusted = await runClient(["--name", theirs, "--trust-server", "any", "hello"]);
      assertEquals(trusted.code, 0, trusted.stderr);
      assertStringIncludes(trusted.stdout, ACK);
      // And a root-owned socket is trusted by another user's client.
      await using ours = await Server.start(["--name", `${tmp}/root.sock`, "--allow-others"]);
      assertEquals(Deno.lstatSync(ours.path).uid, 0);
      const visitor = await runClient(["--name", ours.path, "from-other"], { user: other });
      assertEquals(visitor.code, 0, visitor.stderr);
      await ours.until(() => ours.count("message") === 1, "the other user's message");
    } finally {
      await removeQuietly(tmp);
    }
  },
});

Deno.test({
  name: "access: a socket directory that is a symlink is refused and its target left untouched",
  ignore: IS_WINDOWS,
  async fn() {
    const tmp = await sharedTmp("access-dirlink");
    try {
      const target = `${tmp}/elsewhere`;
      await Deno.mkdir(target);
      await Deno.chmod(target, 0o755);
      await Deno.symlink(target, `${tmp}/duct-${Deno.uid()}`);
      const result = await serverFails(["--name", "linked"], fallbackEnv(tmp));
      assertEquals(result.code, 1, result.stderr);
      assertStringIncludes(result.stderr, "symbolic link");
      assertEquals(result.events, []);
      assertEquals([...Deno.readDirSync(target)], []);
      assertEquals(mode(target).toString(8), "755");
      // The same for a directory the user chose.
      const chosen = await serverFails(["--name", `${tmp}/duct-${Deno.uid()}/x.sock`]);
      assertEquals(chosen.code, 1, chosen.stderr);
      assertStringIncludes(chosen.stderr, "symbolic link");
      assertEquals([...Deno.readDirSync(target)], []);
    } finally {
      await removeQuietly(tmp);
    }
  },
});

Deno.test({
  name: "access: a symlink at the socket path is refused, never followed nor removed",
  ignore: IS_WINDOWS,
  async fn() {
    const tmp = await sharedTmp("access-socklink");
    try {
      // A live server elsewhere, and a dangling link: neither may be reached through the link.
      await using victim = await Server.start(["--name", `${tmp}/victim.sock`]);
      for (const target of [victim.path, `${tmp}/nothing-here.sock`]) {
        const link = `${tmp}/link.sock`;
        await Deno.symlink(target, link);
        const result = await serverFails(["--name", link]);
        assertEquals(result.code, 1, result.stderr);
        assertStringIncludes(result.stderr, "symbolic link");
        assert(Deno.lstatSync(link).isSymlink, "the link was removed");
        await Deno.remove(link);
      }
      assert(Deno.lstatSync(victim.path).isSocket);
      await assertNotFound(`${tmp}/nothing-here.sock`);
      assertEquals(victim.count("connected"), 0);
    } finally {
      await removeQuietly(tmp);
    }
  },
});

async function assertNotFound(path: string): Promise<void> {
  try {
    await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  throw new Error(`${path} exists`);
}

Deno.test({
  name: "access: a foreign-owned socket directory, socket or file is refused and left alone",
  ignore: ROOT_ONLY,
  async fn() {
    const tmp = await sharedTmp("access-foreign");
    try {
      // Another user's directory where ours should be.
      const directory = `${tmp}/duct-${Deno.uid()}`;
      await Deno.mkdir(directory, { mode: 0o700 });
      await Deno.chown(directory, FOREIGN_UID, FOREIGN_UID);
      const dirResult = await serverFails(["--name", "foreign"], fallbackEnv(tmp));
      assertEquals(dirResult.code, 1, dirResult.stderr);
      assertStringIncludes(dirResult.stderr, `belongs to user ${FOREIGN_UID}`);
      assertEquals([...Deno.readDirSync(directory)], []);
      assertEquals(Deno.lstatSync(directory).uid, FOREIGN_UID);

      // Another user's (stale) socket at the path.
      const socketPath = `${tmp}/foreign.sock`;
      const listener = Deno.listen({ transport: "unix", path: `${tmp}/original.sock` });
      // A second name for the socket outlives the listener: a stale socket, as after a crash.
      await Deno.link(`${tmp}/original.sock`, socketPath);
      listener.close();
      assert(Deno.lstatSync(socketPath).isSocket);
      await Deno.chown(socketPath, FOREIGN_UID, FOREIGN_UID);
      const sockResult = await serverFails(["--name", socketPath]);
      assertEquals(sockResult.code, 1, sockResult.stderr);
      assertStringIncludes(sockResult.stderr, `belongs to user ${FOREIGN_UID}`);
      assertEquals(Deno.lstatSync(socketPath).uid, FOREIGN_UID);

      // A regular file (anyone's) at the path.
      const filePath = `${tmp}/file.sock`;
      await Deno.writeTextFile(filePath, "precious");
      await Deno.chown(filePath, FOREIGN_UID, FOREIGN_UID);
      const fileResult = await serverFails(["--name", filePath]);
      assertEquals(fileResult.code, 1, fileResult.stderr);
      assertStringIncludes(fileResult.stderr, "not a socket");
      assertEquals(await Deno.readTextFile(filePath), "precious");
    } finally {
      await removeQuietly(tmp);
    }
  },
});
