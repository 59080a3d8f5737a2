/**
 * The thread count of the current process on Windows, from a Toolhelp snapshot through FFI (the
 * footprint workload checks that duct's server does not add threads per client). Loaded only by
 * Deno on Windows.
 *
 * @module
 */

const TH32CS_SNAPTHREAD = 0x4;
const INVALID_HANDLE_VALUE = -1n;
/** `THREADENTRY32`: seven 32-bit fields; the owner process id is the fourth. */
const ENTRY_BYTES = 28;
const OWNER_OFFSET = 12;

/**
 * Counts the threads of this process, or returns `null` if Windows does not tell.
 *
 * @example
 * ```ts ignore
 * import { windowsThreadCount } from "./_windows_threads.ts";
 * console.log(windowsThreadCount());
 * ```
 */
export function windowsThreadCount(): number | null {
  const kernel32 = Deno.dlopen("kernel32.dll", {
    CreateToolhelp32Snapshot: { parameters: ["u32", "u32"], result: "isize" },
    Thread32First: { parameters: ["isize", "buffer"], result: "i32" },
    Thread32Next: { parameters: ["isize", "buffer"], result: "i32" },
    CloseHandle: { parameters: ["isize"], result: "i32" },
    GetCurrentProcessId: { parameters: [], result: "u32" },
  });
  try {
    const k = kernel32.symbols;
    const snapshot = k.CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (BigInt(snapshot) === INVALID_HANDLE_VALUE) return null;
    try {
      const self = k.GetCurrentProcessId();
      const entry = new Uint8Array(ENTRY_BYTES);
      const view = new DataView(entry.buffer);
      view.setUint32(0, ENTRY_BYTES, true);
      let count = 0;
      for (let ok = k.Thread32First(snapshot, entry); ok; ok = k.Thread32Next(snapshot, entry)) {
        if (view.getUint32(OWNER_OFFSET, true) === self) count++;
        view.setUint32(0, ENTRY_BYTES, true);
      }
      return count;
    } finally {
      k.CloseHandle(snapshot);
    }
  } finally {
    kernel32.close();
  }
}
