/**
 * The C test peers of `tests/peers/`: small Win32 programs built with mingw by
 * `scripts/test_wine.sh` (or here, with a compiler on PATH, as on a Windows CI runner).
 *
 * @module
 */

/**
 * The Windows path of the C peer `tests/peers/NAME.exe`, built from `NAME.c` first if it is
 * missing or older than its source.
 */
export async function peer(name: string): Promise<string> {
  const source = new URL(`./peers/${name}.c`, import.meta.url);
  const exe = new URL(`./peers/${name}.exe`, import.meta.url);
  const sourceInfo = await Deno.stat(source);
  const exeInfo = await Deno.stat(exe).catch(() => undefined);
  if (exeInfo !== undefined && (exeInfo.mtime ?? 0) >= (sourceInfo.mtime ?? 0)) {
    return pathOf(exe);
  }
  // A compiler that is there but fails says why (its errors); only when none is there at all
  // is the message about installing one.
  const failures: string[] = [];
  // Built under a name of its own, then renamed into place: two test files building the same peer
  // at once never write one file together, nor run a half-written one.
  const partial = new URL(`./peers/${name}.${crypto.randomUUID()}.partial.exe`, import.meta.url);
  for (const compiler of ["x86_64-w64-mingw32-gcc", "gcc"]) {
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(compiler, {
        args: ["-O2", "-o", pathOf(partial), pathOf(source)],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // Not installed; try the next one.
      throw error;
    }
    if (output.success) {
      try {
        await Deno.rename(partial, exe);
      } catch (error) {
        // Windows refuses to replace an .exe that is running: another build already put it there.
        await Deno.remove(partial).catch(() => {});
        if (!(await Deno.stat(exe).then(() => true, () => false))) throw error;
      }
      return pathOf(exe);
    }
    const errors = new TextDecoder().decode(output.stderr) +
      new TextDecoder().decode(output.stdout);
    failures.push(`${compiler} exited ${output.code}:\n${errors.trim()}`);
  }
  if (failures.length > 0) {
    throw new Error(
      `could not build tests/peers/${name}.exe from ${name}.c:\n${failures.join("\n")}`,
    );
  }
  throw new Error(
    `tests/peers/${name}.exe is missing or stale and no C compiler was found: ` +
      `run the suite with scripts/test_wine.sh, which builds it with x86_64-w64-mingw32-gcc`,
  );
}

/** The Windows path of a `file:` URL (`file:///Z:/a/b` → `Z:\a\b`). */
function pathOf(url: URL): string {
  return decodeURIComponent(url.pathname).replace(/^\/([A-Za-z]:)/, "$1").replaceAll("/", "\\");
}

/** Every peer of `tests/peers/`, built (or found up to date) one after the other. */
async function buildAll(): Promise<void> {
  for await (const entry of Deno.readDir(new URL("./peers/", import.meta.url))) {
    if (entry.isFile && entry.name.endsWith(".c")) console.log(await peer(entry.name.slice(0, -2)));
  }
}

// `deno run --allow-read --allow-write --allow-run tests/_peers.ts`: what CI runs once before the
// Windows suite.
if (import.meta.main) await buildAll();
