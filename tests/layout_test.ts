/**
 * The layout rule of lib/: only the platform chooser (`lib/api.ts`'s `platformTransport` and
 * `lib/list.ts`'s `listEndpoints`) imports a platform folder, and only lazily (`import()`), so a
 * Unix program never loads FFI code; neither platform folder imports the other.
 */

import { fromFileUrl, join, relative } from "@std/path";
import * as posix from "@std/path/posix";
import { assert, assertEquals } from "./_assert.ts";

const LIB = fromFileUrl(new URL("../lib/", import.meta.url));
const PLATFORMS = ["unix", "windows"];
const CHOOSERS = ["api.ts", "list.ts"];

interface Import {
  /** The imported file, relative to lib/ (`../` when outside it). */
  target: string;
  dynamic: boolean;
}

/** Every `.ts` file under lib/, relative to lib/, with `/` on every platform. */
function libFiles(dir = LIB): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...libFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(relative(LIB, path).replaceAll("\\", "/"));
  }
  return files.sort();
}

/** The imports of a file's code; JSDoc examples (inside comments) are left out. */
function importsOf(file: string): Import[] {
  const code = Deno.readTextFileSync(join(LIB, file))
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const found: Import[] = [];
  const patterns: [RegExp, boolean][] = [
    [/\bfrom\s+"([^"]+)"/g, false],
    [/^\s*import\s+"([^"]+)"/gm, false],
    [/\bimport\(\s*"([^"]+)"\s*\)/g, true],
  ];
  for (const [pattern, dynamic] of patterns) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1];
      if (!specifier.startsWith(".")) continue;
      found.push({ target: posix.normalize(posix.join(posix.dirname(file), specifier)), dynamic });
    }
  }
  return found;
}

function platformOf(path: string): string | undefined {
  return PLATFORMS.find((platform) => path.startsWith(`${platform}/`));
}

Deno.test("layout: the import parser sees static and lazy imports, not JSDoc examples", () => {
  const api = importsOf("api.ts");
  assert(api.some((each) => each.target === "connection.ts" && !each.dynamic));
  assert(api.some((each) => each.target === "unix/transport.ts" && each.dynamic));
  assert(api.some((each) => each.target === "windows/transport.ts" && each.dynamic));
  assert(!api.some((each) => each.target === "mod.ts"), "an @example's import was counted");
});

Deno.test("layout: only the platform chooser imports lib/unix/ or lib/windows/, and lazily", () => {
  const offences: string[] = [];
  for (const file of libFiles()) {
    const own = platformOf(file);
    for (const { target, dynamic } of importsOf(file)) {
      const platform = platformOf(target);
      if (platform === undefined || platform === own) continue;
      if (own !== undefined) offences.push(`${file} (${own}) imports ${target} (${platform})`);
      else if (!CHOOSERS.includes(file)) offences.push(`${file} imports ${target}`);
      else if (!dynamic) offences.push(`${file} imports ${target} statically`);
    }
  }
  assertEquals(offences, []);
});

Deno.test("layout: every lib file is in the portable core or a platform folder", () => {
  const folders = new Set(libFiles().map((file) => posix.dirname(file)));
  assertEquals([...folders].sort(), [".", ...PLATFORMS]);
});
