/**
 * Preloaded into a client under test (`deno run --preload`): reports each connection attempt on
 * stderr, so that a test can wait until the client is in its retry loop instead of guessing how
 * long that takes. It only observes: every call goes on to the real `Deno.connect`.
 *
 * @module
 */

const realConnect = Deno.connect;
Object.defineProperty(Deno, "connect", {
  value: (options: Deno.ConnectOptions | Deno.UnixConnectOptions) => {
    console.error("duct-test: connect attempt");
    // deno-lint-ignore no-explicit-any -- both overloads take the options as they are
    return realConnect(options as any);
  },
});
