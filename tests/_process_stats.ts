/**
 * What a server process holds: its open file descriptors (`/proc` on Linux), its file and pipe
 * handles (the system handle table on Windows), and its memory (`/proc/PID/status`).
 *
 * @module
 */

import { assert, assertLessOrEqual } from "./_assert.ts";
import { IS_WINDOWS } from "./_process.ts";

/** Tests that read `/proc` run on Linux only. */
export const NOT_LINUX: boolean = Deno.build.os !== "linux";

/** The number of open file descriptors of process `pid`. */
export function fdCount(pid: number): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}

/** `SystemExtendedHandleInformation`: every handle of every process, with its owner and type. */
const SYSTEM_EXTENDED_HANDLE_INFORMATION = 64;
const STATUS_INFO_LENGTH_MISMATCH = 0xc0000004;
/** `SYSTEM_HANDLE_INFORMATION_EX`: two pointer-sized counts, then 40-byte entries. */
const HANDLE_TABLE_HEADER = 16;
const HANDLE_ENTRY_SIZE = 40;
/** Fields of an entry: `UniqueProcessId`, `HandleValue`, `ObjectTypeIndex`. */
const HANDLE_ENTRY_PID = 8;
const HANDLE_ENTRY_VALUE = 16;
const HANDLE_ENTRY_TYPE = 30;

const NTDLL = {
  NtQuerySystemInformation: { parameters: ["u32", "buffer", "u32", "buffer"], result: "u32" },
} as const;
const KERNEL32 = {
  CreateFileW: {
    parameters: ["buffer", "u32", "u32", "pointer", "u32", "u32", "pointer"],
    result: "pointer",
  },
  CloseHandle: { parameters: ["pointer"], result: "i32" },
} as const;
let ntdll: Deno.DynamicLibrary<typeof NTDLL>["symbols"] | undefined;
let fileType: number | undefined;

/** The handles of Windows process `pid`: each one's value and object type index. */
function handlesOf(pid: number): { value: bigint; type: number }[] {
  const symbols = ntdll ??= Deno.dlopen("ntdll.dll", NTDLL).symbols;
  for (let size = 1 << 20;; size *= 2) {
    const table = new Uint8Array(size);
    const status = symbols.NtQuerySystemInformation(
      SYSTEM_EXTENDED_HANDLE_INFORMATION,
      table,
      size,
      new Uint8Array(4),
    );
    if (status === STATUS_INFO_LENGTH_MISMATCH) continue;
    assert(status === 0, `NtQuerySystemInformation failed with status 0x${status.toString(16)}`);
    const view = new DataView(table.buffer);
    const entries = Number(view.getBigUint64(0, true));
    const handles = [];
    for (let i = 0; i < entries; i++) {
      const entry = HANDLE_TABLE_HEADER + i * HANDLE_ENTRY_SIZE;
      if (view.getBigUint64(entry + HANDLE_ENTRY_PID, true) !== BigInt(pid)) continue;
      handles.push({
        value: view.getBigUint64(entry + HANDLE_ENTRY_VALUE, true),
        type: view.getUint16(entry + HANDLE_ENTRY_TYPE, true),
      });
    }
    return handles;
  }
}

/** The object type index of files (pipe ends included), read off a file this process opens. */
function fileTypeIndex(): number {
  if (fileType !== undefined) return fileType;
  const kernel32 = Deno.dlopen("kernel32.dll", KERNEL32);
  try {
    const exe = Deno.execPath();
    // UTF-16 code units and a NUL: the LPCWSTR of CreateFileW.
    const path = Uint16Array.from({ length: exe.length + 1 }, (_, i) => exe.charCodeAt(i) || 0);
    // GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING.
    const handle = kernel32.symbols.CreateFileW(
      new Uint8Array(path.buffer),
      0x8000_0000,
      3,
      null,
      3,
      0,
      null,
    );
    const value = BigInt(Deno.UnsafePointer.value(handle));
    assert(value !== 0xffff_ffff_ffff_ffffn, `cannot open ${Deno.execPath()}`);
    try {
      const own = handlesOf(Deno.pid).find((each) => each.value === value);
      assert(own, "the handle just opened is missing from the handle table");
      return fileType = own.type;
    } finally {
      kernel32.symbols.CloseHandle(handle);
    }
  } finally {
    kernel32.close();
  }
}

/**
 * The number of files and pipe ends Windows process `pid` holds open, counted in the system's
 * handle table (`GetProcessHandleCount` is a stub under Wine that always answers 0). Other kinds
 * are left out on purpose: the runtime's thread pool grows under load, and each new thread adds
 * a thread handle (and under Wine one more internal object) that is no leak.
 */
export function fileHandleCount(pid: number): number {
  const file = fileTypeIndex();
  return handlesOf(pid).filter((each) => each.type === file).length;
}

/**
 * Whether {@linkcode openCount} works here: file descriptors on Linux (`/proc`), file handles on
 * Windows; not on macOS.
 */
export const CAN_COUNT_HANDLES: boolean = Deno.build.os === "linux" || IS_WINDOWS;

/** The number of open file descriptors (Linux) or file and pipe handles (Windows) of `pid`. */
export function openCount(pid: number): number {
  return IS_WINDOWS ? fileHandleCount(pid) : fdCount(pid);
}

/** A field of `/proc/PID/status` in bytes, such as `VmRSS`, `VmHWM` or `VmSize`. */
export function procStatus(pid: number, field: "VmRSS" | "VmHWM" | "VmSize"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  assert(match, `no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * Asserts that the peak memory `measure` reports for `large` lines is at most `ratio` times its
 * peak for `small` lines. Resident memory also holds what V8's optimizing compiler and the
 * allocator keep once code is hot, which varies with scheduling on a loaded machine: a pair over
 * the bound is measured once more, and the second pair decides (memory that grows with the input
 * fails both, by far).
 */
export async function assertPeakRatio(
  measure: (lines: number) => Promise<number>,
  options: { small: number; large: number; ratio: number },
): Promise<void> {
  const pair = async () => ({
    small: await measure(options.small),
    large: await measure(options.large),
  });
  const first = await pair();
  if (first.large <= first.small * options.ratio) return;
  const second = await pair();
  assertLessOrEqual(
    second.large,
    second.small * options.ratio,
    `peaks for ${options.small} and ${options.large} lines: ${first.small} and ${first.large}, ` +
      `then ${second.small} and ${second.large} bytes`,
  );
}
