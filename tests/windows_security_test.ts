/**
 * The security descriptor of duct's pipes: only the current user, SYSTEM and Administrators by
 * default, Authenticated Users too with `allowOthers`. The SDDL builder is checked everywhere; on
 * Windows the DACL is read back from a live pipe. (Wine stores and reports descriptors but does not
 * enforce every access check; a refusal of another user needs a real Windows run.)
 *
 * @module
 */

import { assert, assertMatch, assertStrictEquals } from "./_assert.ts";
import { uniqueName } from "./_endpoints.ts";
import { listen } from "../lib/api.ts";
import { resolveEndpoint } from "../lib/endpoint.ts";
import { currentUserSid, OTHERS_ACCESS, pipeSddl, tokenOwnerSid } from "../lib/windows/security.ts";
import { pipeOwner, trustedOwners } from "../lib/windows/owner.ts";
import { openPipeClient } from "../lib/windows/pipe_open.ts";
import { outputWithin, Proc } from "./_process.ts";

const API_URL = new URL("../lib/api.ts", import.meta.url).href;
import {
  ERROR_SUCCESS,
  FILE_GENERIC_READ,
  FILE_WRITE_ATTRIBUTES,
  FILE_WRITE_DATA,
  GENERIC_WRITE,
  OPEN_EXISTING,
  POINTER_SIZE,
  SDDL_REVISION_1,
} from "../lib/windows/ffi.ts";

const IS_WINDOWS = Deno.build.os === "windows";

/** `READ_CONTROL`: the right to read an object's security descriptor. */
const READ_CONTROL = 0x0002_0000;
/** `SE_KERNEL_OBJECT` of `SE_OBJECT_TYPE`. */
const SE_KERNEL_OBJECT = 6;
/** `DACL_SECURITY_INFORMATION`. */
const DACL_SECURITY_INFORMATION = 0x4;
/** The reader shares nothing: it only reads the descriptor. */
const NO_SHARING = 0;
/** `FILE_APPEND_DATA`, which on a pipe is `FILE_CREATE_PIPE_INSTANCE`. */
const FILE_CREATE_PIPE_INSTANCE = 0x0000_0004;
/** `ACCESS_ALLOWED_ACE_TYPE`. */
const ACCESS_ALLOWED_ACE_TYPE = 0;
/** Authenticated Users. */
const AUTHENTICATED_USERS = "S-1-5-11";
/** Sizes of `ACL` and `ACE_HEADER`; `AceCount` sits at offset 4 of `ACL`. */
const ACL_HEADER_SIZE = 8;
const ACL_ACE_COUNT = 4;
const ACE_HEADER_SIZE = 4;

Deno.test("windows security: the default DACL admits only the user, SYSTEM, Administrators", () => {
  const sid = "S-1-5-21-1-2-3-1001";
  assertStrictEquals(pipeSddl(sid, false), `D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;${sid})`);
  const open = pipeSddl(sid, true);
  assert(open.endsWith("(A;;0x12018b;;;AU)"), open);
  // Read, write and the pipe's mode for others; never FILE_CREATE_PIPE_INSTANCE.
  assertStrictEquals(OTHERS_ACCESS, FILE_GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES);
  assertStrictEquals(OTHERS_ACCESS & FILE_CREATE_PIPE_INSTANCE, 0);
  // Neither form grants Everyone (WD) or anonymous logons (AN) anything.
  assert(!/;;;(WD|AN)\)/.test(open), open);
});

Deno.test({
  name: "windows security: a live pipe carries the protected DACL of the current user",
  ignore: !IS_WINDOWS,
  async fn() {
    for (const allowOthers of [false, true]) {
      const name = uniqueName("dacl");
      await using listener = await listen({ name, allowOthers });
      const { sddl, aces } = daclOf(resolveEndpoint(name).path);
      // Protected: nothing inherited from a parent's DACL.
      assertMatch(sddl, /^D:P/);
      assertMatch(sddl, /\(A;;[^;]+;;;SY\)/);
      assertMatch(sddl, /\(A;;[^;]+;;;BA\)/);
      assertMatch(sddl, /\(A;;[^;]+;;;S-1-5-[\d-]+\)/);
      assertStrictEquals(/;;;AU\)/.test(sddl), allowOthers, sddl);
      assert(!/;;;(WD|AN)\)/.test(sddl), sddl);
      // The mask as stored, read from the ACE itself: exactly OTHERS_ACCESS for other users.
      const others = aces.filter((ace) => ace.sid === AUTHENTICATED_USERS);
      if (!allowOthers) assertStrictEquals(others.length, 0, sddl);
      else {
        assertStrictEquals(others.length, 1, sddl);
        assertStrictEquals(others[0].type, ACCESS_ALLOWED_ACE_TYPE);
        assertStrictEquals(others[0].mask, OTHERS_ACCESS, `mask 0x${others[0].mask.toString(16)}`);
        assertStrictEquals(others[0].mask & (FILE_CREATE_PIPE_INSTANCE | GENERIC_WRITE), 0);
      }
      listener.close();
    }
  },
});

/** One ACE of a DACL: its type, access mask and SID. */
interface Ace {
  type: number;
  mask: number;
  sid: string;
}

/** Opens `path` for `READ_CONTROL` only and returns its DACL, as SDDL and as the ACEs stored. */
function daclOf(path: string): { sddl: string; aces: Ace[] } {
  const kernel32 = Deno.dlopen(
    "kernel32.dll",
    {
      CreateFileW: {
        parameters: ["buffer", "u32", "u32", "pointer", "u32", "u32", "pointer"],
        result: "pointer",
      },
      CloseHandle: { parameters: ["pointer"], result: "i32" },
      LocalFree: { parameters: ["pointer"], result: "pointer" },
      GetLastError: { parameters: [], result: "u32" },
    } as const,
  );
  const advapi32 = Deno.dlopen(
    "advapi32.dll",
    {
      GetSecurityInfo: {
        parameters: ["pointer", "u32", "u32", "pointer", "pointer", "buffer", "pointer", "buffer"],
        result: "u32",
      },
      ConvertSecurityDescriptorToStringSecurityDescriptorW: {
        parameters: ["pointer", "u32", "u32", "buffer", "pointer"],
        result: "i32",
      },
    } as const,
  );
  try {
    const wide = new Uint16Array([...path].map((c) => c.charCodeAt(0)).concat(0));
    const handle = kernel32.symbols.CreateFileW(
      new Uint8Array(wide.buffer),
      READ_CONTROL,
      NO_SHARING,
      null,
      OPEN_EXISTING,
      0,
      null,
    );
    assert(handle !== null, `cannot open ${path}: ${kernel32.symbols.GetLastError()}`);
    try {
      const dacl = new Uint8Array(POINTER_SIZE);
      const descriptor = new Uint8Array(POINTER_SIZE);
      const status = advapi32.symbols.GetSecurityInfo(
        handle,
        SE_KERNEL_OBJECT,
        DACL_SECURITY_INFORMATION,
        null,
        null,
        dacl,
        null,
        descriptor,
      );
      assertStrictEquals(status, ERROR_SUCCESS, `GetSecurityInfo failed: ${status}`);
      const descriptorPointer = pointerIn(descriptor);
      const aces = acesOf(pointerIn(dacl)!);
      const text = new Uint8Array(POINTER_SIZE);
      const ok = advapi32.symbols.ConvertSecurityDescriptorToStringSecurityDescriptorW(
        descriptorPointer,
        SDDL_REVISION_1,
        DACL_SECURITY_INFORMATION,
        text,
        null,
      );
      assert(ok, `cannot format the descriptor: ${kernel32.symbols.GetLastError()}`);
      const textPointer = pointerIn(text)!;
      const view = new Deno.UnsafePointerView(textPointer);
      let sddl = "";
      for (let at = 0, unit; (unit = view.getUint16(at)) !== 0; at += 2) {
        sddl += String.fromCharCode(unit);
      }
      kernel32.symbols.LocalFree(textPointer);
      kernel32.symbols.LocalFree(descriptorPointer);
      return { sddl, aces };
    } finally {
      kernel32.symbols.CloseHandle(handle);
    }
  } finally {
    advapi32.close();
    kernel32.close();
  }
}

function pointerIn(buffer: Uint8Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(new DataView(buffer.buffer).getBigUint64(0, true));
}

/** Parses an `ACL`: its header, then each ACE's header, mask and SID. */
function acesOf(acl: Deno.PointerObject): Ace[] {
  const view = new Deno.UnsafePointerView(acl);
  const aces: Ace[] = [];
  let at = ACL_HEADER_SIZE;
  for (let i = 0; i < view.getUint16(ACL_ACE_COUNT); i++) {
    const type = view.getUint8(at);
    const size = view.getUint16(at + 2);
    const mask = view.getUint32(at + ACE_HEADER_SIZE);
    aces.push({ type, mask, sid: sidAt(view, at + ACE_HEADER_SIZE + 4) });
    at += size;
  }
  return aces;
}

/** `S-REVISION-AUTHORITY-SUB…` of the binary SID at `at`. */
function sidAt(view: Deno.UnsafePointerView, at: number): string {
  const revision = view.getUint8(at);
  const count = view.getUint8(at + 1);
  let authority = 0;
  for (let i = 0; i < 6; i++) authority = authority * 256 + view.getUint8(at + 2 + i);
  const parts = [revision, authority];
  for (let i = 0; i < count; i++) parts.push(view.getUint32(at + 8 + 4 * i));
  return `S-${parts.join("-")}`;
}

Deno.test({
  name: "windows security: a client reads its own pipe's owner back and trusts it",
  ignore: !IS_WINDOWS,
  async fn() {
    const name = uniqueName("owner");
    await using listener = await listen({ name });
    const opened = openPipeClient(resolveEndpoint(name).path, READ_CONTROL);
    assert(opened.error === undefined, `cannot open the pipe: ${opened.error}`);
    try {
      const owner = pipeOwner(opened.handle);
      // The creator's token sets the owner: its user, or Administrators for an elevated admin.
      assert([currentUserSid(), tokenOwnerSid()].includes(owner.sid), JSON.stringify(owner));
      assert(trustedOwners().has(owner.sid));
      assert(owner.account.length > 0);
    } finally {
      Deno.dlopen("kernel32.dll", { CloseHandle: { parameters: ["pointer"], result: "i32" } })
        .symbols.CloseHandle(opened.handle);
    }
    listener.close();
  },
});

Deno.test({
  name: "windows security: a pipe of another owner is refused before a byte is sent, " +
    "unless trustServer is any",
  ignore: !IS_WINDOWS,
  async fn() {
    // Wine runs everything as one user, so the owner another user's pipe would have is stubbed:
    // GetSecurityInfo answers with the SID of a user this machine does not know.
    const name = uniqueName("foreign");
    const code = `
      const realDlopen = Deno.dlopen;
      const foreign = new Uint8Array(new ArrayBuffer(28));
      const view = new DataView(foreign.buffer);
      view.setUint8(0, 1); // revision
      view.setUint8(1, 5); // subauthorities
      view.setUint8(7, 5); // SECURITY_NT_AUTHORITY
      [21, 1, 2, 3, 1001].forEach((part, i) => view.setUint32(8 + 4 * i, part, true));
      const address = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(foreign)));
      Object.defineProperty(Deno, "dlopen", {
        value: (path, definitions) => {
          const library = realDlopen(path, definitions);
          if (!("GetSecurityInfo" in definitions)) return library;
          const real = library.symbols.GetSecurityInfo;
          const GetSecurityInfo = (handle, type, info, ownerOut, ...rest) => {
            const error = real(handle, type, info, ownerOut, ...rest);
            if (error === 0) new DataView(ownerOut.buffer).setBigUint64(0, address, true);
            return error;
          };
          return { symbols: { ...library.symbols, GetSecurityInfo }, close: () => library.close() };
        },
      });
      const { connect, listen } = await import(${JSON.stringify(API_URL)});
      const name = ${JSON.stringify(name)};
      const listener = await listen({ name });
      const accepted = listener.accept();
      const refused = await connect({ name, timeout: 2000 }).then(
        () => "connected",
        (error) => error.name + ": " + error.message,
      );
      console.log(refused);
      // The server's side of the refused connection: closed, with nothing in it.
      const server = await accepted;
      console.log("server received " + JSON.stringify(await server.receive()));
      const next = listener.accept();
      const trusted = await connect({ name, timeout: 2000, trustServer: "any" });
      await trusted.send("hello");
      console.log("trusted: " + new TextDecoder().decode(await (await next).receive()));
      await trusted.close();
      listener.close();
    `;
    await using proc = Proc.eval(code);
    const output = await outputWithin(proc, 60_000);
    assertStrictEquals(output.code, 0, output.stderr);
    assertStrictEquals(output.lines.length, 3, output.stdout);
    assertStrictEquals(
      output.lines[0],
      `PermissionDeniedError: the endpoint ${name} (${resolveEndpoint(name).path}) is owned by ` +
        `S-1-5-21-1-2-3-1001, not by you; nothing was sent (connect with trustServer "any" if ` +
        `you trust that user's server)`,
    );
    assertStrictEquals(output.lines[1], "server received null");
    assertStrictEquals(output.lines[2], "trusted: hello");
  },
});
