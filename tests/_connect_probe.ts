/**
 * Preloaded into a client under test (`deno run --preload`): reports each connection attempt on
 * stderr, so that a test can wait until the client is in its retry loop instead of guessing how
 * long that takes. It only observes: every call goes on to the real function. On Unix an attempt
 * is a `Deno.connect`; on Windows it is an `NtCreateFile` (or `CreateFileW`) of the pipe, seen by
 * wrapping the symbols the transport loads through `Deno.dlopen`.
 *
 * @module
 */

const REPORT = "duct-test: connect attempt";

if (Deno.build.os === "windows") {
  // deno-lint-ignore no-explicit-any -- a pass-through of whatever the library declares
  type Symbols = Record<string, any>;
  const realDlopen = Deno.dlopen;
  Object.defineProperty(Deno, "dlopen", {
    value: (path: string | URL, definitions: Deno.ForeignLibraryInterface) => {
      const library = realDlopen(path, definitions);
      const opens = "NtCreateFile" in definitions || "CreateFileW" in definitions;
      if (!opens) return library;
      const real: Symbols = library.symbols;
      const symbols: Symbols = {};
      for (const name of Object.getOwnPropertyNames(real)) symbols[name] = real[name];
      if ("CreateFileW" in definitions) {
        symbols.CreateFileW = (...args: unknown[]) => {
          const handle = real.CreateFileW(...args);
          // The caller reads the last error next: keep it across the report's own write.
          const error = real.GetLastError();
          console.error(REPORT);
          real.SetLastError(error);
          return handle;
        };
      }
      // The client opens a pipe with NtCreateFile (its status is returned, not left behind).
      if ("NtCreateFile" in definitions) {
        symbols.NtCreateFile = (...args: unknown[]) => {
          const status = real.NtCreateFile(...args);
          console.error(REPORT);
          return status;
        };
      }
      return { symbols, close: () => library.close() };
    },
  });
} else {
  const realConnect = Deno.connect;
  Object.defineProperty(Deno, "connect", {
    value: (options: Deno.ConnectOptions | Deno.UnixConnectOptions) => {
      console.error(REPORT);
      // deno-lint-ignore no-explicit-any -- both overloads take the options as they are
      return realConnect(options as any);
    },
  });
}
