/**
 * `.gitattributes`: a checkout made with `core.autocrlf=true` (the Windows default, GitHub's
 * Windows runners included) still has LF line endings, so `deno fmt --check` passes there.
 *
 * The test clones the current commit of the repository it runs in (a clone sees committed files
 * only) into a temporary directory with `core.autocrlf=true`. Without git or outside a git
 * checkout it is ignored with one line saying why.
 */

import { fromFileUrl } from "@std/path";
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";

const ROOT = new URL("..", import.meta.url);
const decoder = new TextDecoder();

async function git(args: string[], cwd: string | URL = ROOT) {
  const output = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout).trim(),
    stderr: decoder.decode(output.stderr).trim(),
  };
}

/** The commit to clone, or why there is none. */
async function headCommit(): Promise<{ commit: string } | { reason: string }> {
  try {
    const head = await git(["rev-parse", "--verify", "HEAD"]);
    if (head.code !== 0) return { reason: `not a git checkout (${head.stderr.split("\n")[0]})` };
    return { commit: head.stdout };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { reason: "git is not installed" };
    throw error;
  }
}

async function fmtCheck(cwd: string, files: string[] = []) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--check", ...files],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: output.code, log: decoder.decode(output.stderr) + decoder.decode(output.stdout) };
}

const head = await headCommit();
if ("reason" in head) console.log(`line_endings_test: SKIPPED: ${head.reason}`);

Deno.test({
  name: "line endings: a core.autocrlf=true clone has LF files and passes deno fmt --check",
  ignore: "reason" in head,
  async fn() {
    const { commit } = head as { commit: string };
    const dir = await Deno.makeTempDir({ prefix: "duct-crlf-" });
    try {
      const clone = await git(["clone", "--quiet", "--no-checkout", fromFileUrl(ROOT), dir]);
      assertEquals(clone.code, 0, clone.stderr);
      const checkout = await git(["-c", "core.autocrlf=true", "checkout", "--quiet", commit], dir);
      assertEquals(checkout.code, 0, checkout.stderr);
      assertEquals(await git(["config", "core.autocrlf", "true"], dir).then((r) => r.code), 0);

      const readme = await Deno.readTextFile(`${dir}/README.md`);
      assert(!readme.includes("\r\n"), "README.md was checked out with CRLF");
      const fmt = await fmtCheck(dir);
      assertEquals(fmt.code, 0, `deno fmt --check failed in the CRLF clone:\n${fmt.log}`);

      // The control: without .gitattributes the same checkout gets CRLF, and fmt rejects it.
      // (A checkout reads .gitattributes from the index, so it goes from there too.)
      assertEquals((await git(["rm", "--quiet", ".gitattributes"], dir)).code, 0);
      await Deno.remove(`${dir}/README.md`);
      const plain = await git(["checkout", "--quiet", "--", "README.md"], dir);
      assertEquals(plain.code, 0, plain.stderr);
      assert((await Deno.readTextFile(`${dir}/README.md`)).includes("\r\n"), "no CRLF without it");
      const rejected = await fmtCheck(dir, ["README.md"]);
      assertEquals(rejected.code, 1, rejected.log);
      assertStringIncludes(rejected.log, "line endings");
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
