/**
 * Windows named-pipe transport (placeholder until the FFI transport lands).
 *
 * @module
 */

import type { Transport } from "./transport.ts";

/** The Windows transport. */
export const windowsTransport: Transport = {
  messageMode: true,
  listen() {
    return Promise.reject(new Error("the Windows transport is not implemented yet"));
  },
  connect() {
    return Promise.reject(new Error("the Windows transport is not implemented yet"));
  },
};
