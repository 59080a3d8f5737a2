/**
 * Who owns a pipe, and whether a client trusts that owner.
 *
 * `\\.\pipe\` is one namespace for the whole machine: any local user may create a name before its
 * server does (or while it restarts) and would then receive whatever duct's client sends.
 * `FILE_FLAG_FIRST_PIPE_INSTANCE` only protects servers, `SECURITY_IDENTIFICATION` only stops
 * impersonation. So the client reads the owner of the pipe it opened and refuses, before sending
 * a byte, one that is not the current user (its token's user or default owner), SYSTEM or the
 * Administrators group — as .NET's `PipeOptions.CurrentUserOnly` does on the client side
 * (dotnet/runtime `NamedPipeClientStream.ValidateRemotePipeUser`, and Roslyn's
 * `NamedPipeUtil.CheckPipeConnectionOwnership`, both compare the pipe's owner SID).
 *
 * Why the pipe's owner (`GetSecurityInfo(handle, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION)`)
 * rather than the token user of `GetNamedPipeServerProcessId`'s process: it needs nothing but the
 * handle already open (`GENERIC_READ` includes `READ_CONTROL`), so it cannot race with that
 * process exiting and its id being reused, and it works for a server of SYSTEM or another user,
 * whose process a standard user may not open (`OpenProcess`/`OpenProcessToken` are refused
 * there). The owner is set by the creator of the name's first instance and only to a SID it may
 * own (its own user, or a group of its token marked `SE_GROUP_OWNER`, such as Administrators when
 * elevated: "Ownership of Objects", Win32 docs), so another user cannot pose as you; and duct's
 * DACL grants nobody else `FILE_CREATE_PIPE_INSTANCE`, so no one else adds instances to your name.
 *
 * @module
 */

import { PermissionDeniedError } from "../errors.ts";
import {
  ADMINISTRATORS_SID,
  advapi32Symbols,
  DWORD_SIZE,
  ERROR_SUCCESS,
  kernel32Symbols,
  OWNER_SECURITY_INFORMATION,
  POINTER_SIZE,
  SE_KERNEL_OBJECT,
  SYSTEM_SID,
} from "./ffi.ts";
import { win32Error } from "./errors.ts";
import {
  currentUserSid,
  keepAlive,
  pointerAt,
  readWideString,
  sidString,
  tokenOwnerSid,
} from "./security.ts";

/** Characters of the name and domain buffers of `LookupAccountSidW` (names are ≤ 256). */
const ACCOUNT_CHARS = 257;

/** The `sid` of a pipe whose descriptor names no owner. */
export const NO_OWNER = "";

/** The owner of a pipe: its SID, and `DOMAIN\user` when Windows can name it (else the SID). */
export interface PipeOwner {
  sid: string;
  account: string;
}

/**
 * Reads the owner of the pipe object behind `handle` (which needs `READ_CONTROL`).
 *
 * @throws {Win32Error} if the security descriptor cannot be read.
 *
 * @example
 * ```ts ignore
 * import { pipeOwner } from "./owner.ts";
 * console.log(pipeOwner(handle)); // { sid: "S-1-5-21-…-1001", account: "HOST\\alice" }
 * ```
 */
export function pipeOwner(handle: Deno.PointerValue): PipeOwner {
  const ownerOut = new Uint8Array(new ArrayBuffer(POINTER_SIZE));
  const descriptorOut = new Uint8Array(new ArrayBuffer(POINTER_SIZE));
  // Returns its error code itself: no last error to read.
  const error = advapi32Symbols().GetSecurityInfo(
    handle,
    SE_KERNEL_OBJECT,
    OWNER_SECURITY_INFORMATION,
    ownerOut,
    null,
    null,
    null,
    descriptorOut,
  );
  if (error !== ERROR_SUCCESS) throw win32Error(error, "cannot read the owner of the pipe");
  const descriptor = pointerAt(descriptorOut);
  try {
    // The owner SID points into the descriptor, freed below.
    const owner = pointerAt(ownerOut);
    // Windows gives every pipe an owner (the creator's default owner when its descriptor names
    // none); Wine leaves one created without a descriptor ownerless. No owner is no one trusted.
    if (owner === null) return { sid: NO_OWNER, account: "no one (the pipe has no owner)" };
    const sid = sidString(owner);
    return { sid, account: accountName(owner) ?? sid };
  } finally {
    kernel32Symbols().LocalFree(descriptor);
  }
}

// `DOMAIN\user` of a SID, or undefined when it names no account Windows knows.
function accountName(sid: Deno.PointerValue): string | undefined {
  const name = new Uint8Array(new ArrayBuffer(ACCOUNT_CHARS * 2));
  const domain = new Uint8Array(new ArrayBuffer(ACCOUNT_CHARS * 2));
  const nameChars = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
  const domainChars = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
  new DataView(nameChars.buffer).setUint32(0, ACCOUNT_CHARS, true);
  new DataView(domainChars.buffer).setUint32(0, ACCOUNT_CHARS, true);
  const use = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
  const found = advapi32Symbols().LookupAccountSidW(
    null,
    sid,
    name,
    nameChars,
    domain,
    domainChars,
    use,
  );
  if (!found) return undefined;
  const user = readWideString(Deno.UnsafePointer.of(name));
  const where = readWideString(Deno.UnsafePointer.of(domain));
  keepAlive([name, domain]);
  return where ? `${where}\\${user}` : user;
}

let trusted: ReadonlySet<string> | undefined;

/**
 * The owners a client trusts by default: this process's user and default owner, SYSTEM and the
 * Administrators group (who can read any process's memory anyway).
 *
 * @example
 * ```ts ignore
 * import { trustedOwners } from "./owner.ts";
 * console.log([...trustedOwners()]); // ["S-1-5-21-…-1001", "S-1-5-18", "S-1-5-32-544"]
 * ```
 */
export function trustedOwners(): ReadonlySet<string> {
  return trusted ??= new Set([currentUserSid(), tokenOwnerSid(), SYSTEM_SID, ADMINISTRATORS_SID]);
}

/**
 * Throws {@linkcode PermissionDeniedError} unless the pipe behind `handle` is owned by one of
 * {@linkcode trustedOwners}. `name` and `path` are for the message.
 *
 * @throws {PermissionDeniedError} for a pipe of another owner; {@linkcode Win32Error} if its
 * owner cannot be read.
 *
 * @example
 * ```ts ignore
 * import { checkPipeOwner } from "./owner.ts";
 * checkPipeOwner(handle, "testPipe", "\\\\.\\pipe\\testPipe");
 * ```
 */
export function checkPipeOwner(handle: Deno.PointerValue, name: string, path: string): void {
  const owner = pipeOwner(handle);
  if (trustedOwners().has(owner.sid)) return;
  throw new PermissionDeniedError(
    `the endpoint ${name} (${path}) is owned by ${owner.account}, not by you; nothing was sent ` +
      `(connect with trustServer "any" if you trust that user's server)`,
  );
}
