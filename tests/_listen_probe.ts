/**
 * Preloaded into a server under test (`deno run --preload`): reports the mode the socket file
 * has the moment it is bound, before the server adjusts it, so that a test can check that it is
 * never open to others, not even briefly. It only observes: the real `Deno.listen` does the work.
 *
 * @module
 */

const realListen = Deno.listen;
Object.defineProperty(Deno, "listen", {
  value: (options: Deno.ListenOptions | Deno.UnixListenOptions) => {
    // deno-lint-ignore no-explicit-any -- both overloads take the options as they are
    const listener = realListen(options as any);
    if ("path" in options) {
      const mode = (Deno.lstatSync(options.path).mode ?? 0) & 0o777;
      console.error(`duct-test: socket bound with mode ${mode.toString(8)}`);
    }
    return listener;
  },
});
