/**
 * `serve`: the common JSON-RPC server, one {@linkcode RpcPeer} per connection of a listener.
 *
 * @module
 */

import type { Listener } from "./api.ts";
import { RpcPeer } from "./rpc.ts";
import type { NotificationHandler, RequestHandler, RpcPeerOptions } from "./rpc_types.ts";

/** Options of {@linkcode serve}: those of each {@linkcode RpcPeer}, and more. */
export interface ServeOptions extends RpcPeerOptions {
  /** Notification handlers, by method. */
  notifications?: Record<string, NotificationHandler>;
  /** Called with each new peer, its handlers registered, before it reads anything. */
  onPeer?: (peer: RpcPeer) => void;
}

/**
 * Answers JSON-RPC requests on every connection `listener` accepts, with `handlers` (by method)
 * and one {@linkcode RpcPeer} each; a connection that fails or misbehaves affects no other.
 * Resolves once the listener is closed and every connection it served has closed (those still
 * open then are closed).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { connect, listen, RpcPeer, serve } from "./mod.ts";
 * const name = `serve-doc-${crypto.randomUUID()}`;
 * const listener = await listen({ name });
 * const served = serve(listener, { echo: (params) => params });
 * const client = new RpcPeer(await connect({ name }));
 * assertEquals(await client.request("echo", { hello: "world" }), { hello: "world" });
 * await client.close();
 * listener.close();
 * await served;
 * ```
 */
export async function serve(
  listener: Listener,
  handlers: Record<string, RequestHandler>,
  options: ServeOptions = {},
): Promise<void> {
  const peers = new Set<RpcPeer>();
  try {
    for await (const conn of listener) {
      const peer = new RpcPeer(conn, options);
      for (const [method, handler] of Object.entries(handlers)) peer.handle(method, handler);
      for (const [method, handler] of Object.entries(options.notifications ?? {})) {
        peer.onNotification(method, handler);
      }
      options.onPeer?.(peer);
      peers.add(peer);
      peer.closed.then(() => peers.delete(peer));
    }
  } finally {
    await Promise.all([...peers].map((peer) => peer.close()));
  }
}
