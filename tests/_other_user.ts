/**
 * A throwaway second local user (Linux, as root), to prove that another user is kept out of a
 * server's endpoint unless it is opened to others.
 *
 * @module
 */

import { removeQuietly } from "./_endpoints.ts";
import { Proc, type ProcOptions, ROOT } from "./_process.ts";

const decoder = new TextDecoder();

/** Whether this process may create users (root with `useradd` and `setpriv`). */
export function canCreateUsers(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  for (const tool of ["/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/bin/setpriv"]) {
    try {
      Deno.statSync(tool);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * A throwaway local user, with a world-readable copy of the client's sources and of the Deno
 * binary (the originals may sit in directories that user cannot traverse).
 */
export class OtherUser implements AsyncDisposable {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Its home: the copies and its Deno cache live here. */
  readonly home: string;

  private constructor(name: string, uid: number, gid: number, home: string) {
    this.name = name;
    this.uid = uid;
    this.gid = gid;
    this.home = home;
  }

  /** Creates the user (root only: see {@linkcode canCreateUsers}). */
  static async create(): Promise<OtherUser> {
    const name = `duct${Deno.pid}${Math.floor(Math.random() * 1e6)}`.slice(0, 30);
    // useradd takes a lock on /etc/passwd; another test creating a user at the same moment makes
    // it fail with status 1 ("cannot lock"), so it is retried a few times.
    for (let attempt = 0;; attempt++) {
      const added = await new Deno.Command("/usr/sbin/useradd", {
        args: ["--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (added.success) break;
      if (attempt >= 20) throw new Error(`useradd failed: ${decoder.decode(added.stderr)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const home = await Deno.makeTempDir({ prefix: "duct-other-user-" });
    try {
      const id = (flag: string) =>
        new Deno.Command("id", { args: [flag, name], stdout: "piped" }).output()
          .then((out) => Number(decoder.decode(out.stdout).trim()));
      const uid = await id("-u");
      const gid = await id("-g");
      const sources = ["lib", "lib/unix", "lib/windows", "cli"];
      for (const dir of ["", "bin", "cache", ...sources]) {
        await Deno.mkdir(`${home}/${dir}`, { recursive: true });
        await Deno.chmod(`${home}/${dir}`, 0o755);
      }
      for (const dir of sources) {
        for (const entry of Deno.readDirSync(ROOT + dir)) {
          if (entry.isFile) {
            await Deno.copyFile(`${ROOT}${dir}/${entry.name}`, `${home}/${dir}/${entry.name}`);
          }
        }
      }
      for (const file of ["client.ts", "deno.json"]) {
        await Deno.copyFile(ROOT + file, `${home}/${file}`);
      }
      await Deno.copyFile(Deno.execPath(), `${home}/bin/deno`);
      await Deno.chmod(`${home}/bin/deno`, 0o755);
      await Deno.chown(`${home}/cache`, uid, gid);
      return new OtherUser(name, uid, gid, home);
    } catch (error) {
      await removeQuietly(home);
      await userdel(name);
      throw error;
    }
  }

  /**
   * Starts `deno run -A SCRIPT ARGS…` as this user: its copy of `SCRIPT` (a file URL in this
   * repository), its copy of Deno, a clean environment and its own Deno cache.
   */
  spawn(script: string, args: string[], options: ProcOptions = {}): Proc {
    const copy = `${this.home}/${new URL(script).pathname.slice(ROOT.length)}`;
    return new Proc(
      [
        `--reuid=${this.uid}`,
        `--regid=${this.gid}`,
        "--clear-groups",
        "--",
        `${this.home}/bin/deno`,
        "run",
        "--allow-all",
        copy,
        ...args,
      ],
      {
        ...options,
        command: "/usr/bin/setpriv",
        clearEnv: true,
        env: {
          PATH: "/usr/bin:/bin",
          HOME: `${this.home}/cache`,
          DENO_DIR: `${this.home}/cache`,
          NO_COLOR: "1",
          // Its empty cache fetches the jsr: imports: from where this process would (the local
          // registry of ../shared/jsr here, jsr.io elsewhere).
          ...(Deno.env.get("JSR_URL") ? { JSR_URL: Deno.env.get("JSR_URL")! } : {}),
        },
        cwd: this.home,
      },
    );
  }

  /** Deletes the user and its files. */
  async [Symbol.asyncDispose](): Promise<void> {
    await removeQuietly(this.home);
    await userdel(this.name);
  }
}

async function userdel(name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const deleted = await new Deno.Command("/usr/sbin/userdel", {
      args: [name],
      stdout: "null",
      stderr: "null",
    }).output();
    // 6: no such user (already gone).
    if (deleted.success || deleted.code === 6) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
