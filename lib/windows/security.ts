/**
 * The security descriptor a duct pipe is created with. The default DACL of a named pipe lets
 * Everyone read it; duct instead admits only the current user, SYSTEM and Administrators, unless
 * the server opts in to other local users.
 *
 * @module
 */

import {
  advapi32Symbols,
  DWORD_SIZE,
  FILE_GENERIC_READ,
  FILE_WRITE_ATTRIBUTES,
  FILE_WRITE_DATA,
  kernel32Symbols,
  POINTER_SIZE,
  SA_DESCRIPTOR,
  SA_INHERIT,
  SA_LENGTH,
  SDDL_REVISION_1,
  SECURITY_ATTRIBUTES_SIZE,
  TOKEN_OWNER_CLASS,
  TOKEN_QUERY,
  TOKEN_USER_CLASS,
  wideString,
} from "./ffi.ts";
import { win32Error } from "./errors.ts";

/** Room for `TOKEN_USER` and the SID after it (a SID is at most 68 bytes). */
const TOKEN_USER_BUFFER = 256;
/** Offset of `TOKEN_USER.User.Sid`, a pointer into the same buffer. */
const TOKEN_USER_SID = 0;
const FALSE = 0;

/**
 * What other local users get with `allowOthers` (0x12018B): read, write and the pipe's mode, but
 * not `FILE_APPEND_DATA` (= `FILE_CREATE_PIPE_INSTANCE`), which `GENERIC_WRITE` would include and
 * which would let them create instances of this name and answer duct's clients.
 */
export const OTHERS_ACCESS = FILE_GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES;

/** A `SECURITY_ATTRIBUTES` for `CreateNamedPipeW`, valid until `free` is called. */
export interface PipeSecurity {
  /** The `SECURITY_ATTRIBUTES` structure, to pass as `lpSecurityAttributes`. */
  readonly attributes: Uint8Array<ArrayBuffer>;
  /** Releases the descriptor (`LocalFree`). */
  free(): void;
}

/**
 * The DACL in SDDL: protected (`P`, nothing inherited); full access (`GA`) for SYSTEM (`SY`),
 * Administrators (`BA`) and the user `userSid`; with `allowOthers`, {@linkcode OTHERS_ACCESS}
 * (read and write, no new instances) for Authenticated Users (`AU`), which excludes anonymous
 * logons.
 *
 * @example
 * ```ts
 * import { pipeSddl } from "./security.ts";
 * console.log(pipeSddl("S-1-5-21-1-2-3-1000", false));
 * // D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;S-1-5-21-1-2-3-1000)
 * ```
 */
export function pipeSddl(userSid: string, allowOthers: boolean): string {
  const others = allowOthers ? `(A;;0x${OTHERS_ACCESS.toString(16)};;;AU)` : "";
  return `D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;${userSid})${others}`;
}

/**
 * The string SID of the user running this process (from its token's `TokenUser`).
 *
 * @throws {Win32Error} if the token cannot be read.
 *
 * @example
 * ```ts ignore
 * import { currentUserSid } from "./security.ts";
 * console.log(currentUserSid()); // S-1-5-21-…-1001
 * ```
 */
export function currentUserSid(): string {
  return tokenSid(TOKEN_USER_CLASS);
}

/**
 * The string SID this process's token makes the owner of what it creates (`TokenOwner`): the user,
 * or the Administrators group for an elevated administrator (Windows' default for that group).
 *
 * @throws {Win32Error} if the token cannot be read.
 *
 * @example
 * ```ts ignore
 * import { tokenOwnerSid } from "./security.ts";
 * console.log(tokenOwnerSid()); // S-1-5-21-…-1001, or S-1-5-32-544
 * ```
 */
export function tokenOwnerSid(): string {
  return tokenSid(TOKEN_OWNER_CLASS);
}

// `TOKEN_USER` and `TOKEN_OWNER` both start with the SID's pointer, into the same buffer.
function tokenSid(infoClass: number): string {
  const kernel32 = kernel32Symbols();
  const advapi32 = advapi32Symbols();
  const tokenOut = new Uint8Array(new ArrayBuffer(POINTER_SIZE));
  if (!advapi32.OpenProcessToken(kernel32.GetCurrentProcess(), TOKEN_QUERY, tokenOut)) {
    throw win32Error(kernel32.GetLastError(), "cannot open this process's token");
  }
  const token = pointerAt(tokenOut);
  try {
    const info = new Uint8Array(new ArrayBuffer(TOKEN_USER_BUFFER));
    const needed = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
    if (!advapi32.GetTokenInformation(token, infoClass, info, info.length, needed)) {
      throw win32Error(kernel32.GetLastError(), "cannot read the user of this process's token");
    }
    // `sid` points into `info`: a raw pointer does not keep `info` alive, so `info` is used again
    // after the call that reads through it.
    const sid = pointerAt(info, TOKEN_USER_SID);
    const text = sidString(sid);
    keepAlive(info);
    return text;
  } finally {
    kernel32.CloseHandle(token);
  }
}

/**
 * The `S-1-…` form of the binary SID at `sid`.
 *
 * @throws {Win32Error} if Windows cannot format it.
 *
 * @example
 * ```ts ignore
 * import { sidString } from "./security.ts";
 * console.log(sidString(sidPointer)); // S-1-5-18
 * ```
 */
export function sidString(sid: Deno.PointerValue): string {
  const kernel32 = kernel32Symbols();
  const textOut = new Uint8Array(new ArrayBuffer(POINTER_SIZE));
  if (!advapi32Symbols().ConvertSidToStringSidW(sid, textOut)) {
    throw win32Error(kernel32.GetLastError(), "cannot format a SID");
  }
  const text = pointerAt(textOut);
  try {
    return readWideString(text);
  } finally {
    kernel32.LocalFree(text);
  }
}

/**
 * Builds the `SECURITY_ATTRIBUTES` for a pipe of the current user.
 *
 * @throws {Win32Error} if Windows cannot build the descriptor.
 *
 * @example
 * ```ts ignore
 * import { pipeSecurity } from "./security.ts";
 * const security = pipeSecurity(false);
 * // CreateNamedPipeW(…, security.attributes);
 * security.free();
 * ```
 */
export function pipeSecurity(allowOthers: boolean): PipeSecurity {
  const kernel32 = kernel32Symbols();
  const sddl = pipeSddl(currentUserSid(), allowOthers);
  const descriptorOut = new Uint8Array(new ArrayBuffer(POINTER_SIZE));
  const ok = advapi32Symbols().ConvertStringSecurityDescriptorToSecurityDescriptorW(
    wideString(sddl),
    SDDL_REVISION_1,
    descriptorOut,
    null,
  );
  if (!ok) {
    throw win32Error(kernel32.GetLastError(), `cannot build the security descriptor ${sddl}`);
  }
  const descriptor = pointerAt(descriptorOut);
  const attributes = new Uint8Array(new ArrayBuffer(SECURITY_ATTRIBUTES_SIZE));
  const view = new DataView(attributes.buffer);
  view.setUint32(SA_LENGTH, SECURITY_ATTRIBUTES_SIZE, true);
  view.setBigUint64(SA_DESCRIPTOR, BigInt(Deno.UnsafePointer.value(descriptor)), true);
  view.setUint32(SA_INHERIT, FALSE, true);
  let freed = false;
  return {
    attributes,
    free() {
      if (freed) return;
      freed = true;
      kernel32.LocalFree(descriptor);
    },
  };
}

/**
 * The pointer stored at `offset` of `buffer` (an out-parameter of a Win32 call).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { pointerAt } from "./security.ts";
 * assertEquals(pointerAt(new Uint8Array(8)), null);
 * ```
 */
export function pointerAt(buffer: Uint8Array, offset = 0): Deno.PointerValue {
  const value = new DataView(buffer.buffer, buffer.byteOffset).getBigUint64(offset, true);
  return Deno.UnsafePointer.create(value);
}

/**
 * The NUL-terminated UTF-16 string at `pointer` (`""` for a null pointer).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { readWideString } from "./security.ts";
 * assertEquals(readWideString(null), "");
 * ```
 */
export function readWideString(pointer: Deno.PointerValue): string {
  if (pointer === null) return "";
  const view = new Deno.UnsafePointerView(pointer);
  let text = "";
  for (let at = 0;; at += 2) {
    const unit = view.getUint16(at);
    if (unit === 0) return text;
    text += String.fromCharCode(unit);
  }
}

// Reachability across an FFI call that only saw a raw pointer into `value`: calling this after the
// call keeps `value` alive until then.
const kept: unknown[] = [];
/**
 * Keeps `value` reachable until this call, after an FFI call that only saw a raw pointer into it.
 *
 * @example
 * ```ts
 * import { keepAlive } from "./security.ts";
 * keepAlive(new Uint8Array(4));
 * ```
 */
export function keepAlive(value: unknown): void {
  kept.push(value);
  kept.pop();
}
