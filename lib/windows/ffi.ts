/**
 * The Win32 surface duct uses: FFI symbol tables of kernel32, advapi32 and ntdll, every constant
 * by its Windows SDK name, and the layouts of the structures passed by pointer (64-bit Windows).
 *
 * The libraries are opened on first use, so importing this module costs nothing elsewhere.
 *
 * @module
 */

// --- Handles and generic values -----------------------------------------------------------------

/** `INVALID_HANDLE_VALUE`: `(HANDLE)-1`, what `CreateFileW`/`CreateNamedPipeW` return on failure. */
export const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;
/** `INFINITE`: wait without a time limit. */
export const INFINITE = 0xffff_ffff;

// --- CreateNamedPipeW -----------------------------------------------------------------------------

/** `PIPE_ACCESS_DUPLEX`: the server reads and writes. */
export const PIPE_ACCESS_DUPLEX = 0x0000_0003;
/** `FILE_FLAG_FIRST_PIPE_INSTANCE`: fail if the pipe name already exists. */
export const FILE_FLAG_FIRST_PIPE_INSTANCE = 0x0008_0000;
/** `FILE_FLAG_OVERLAPPED`: asynchronous I/O, completed through the completion port. */
export const FILE_FLAG_OVERLAPPED = 0x4000_0000;
/** `PIPE_TYPE_MESSAGE`: each write is one message. */
export const PIPE_TYPE_MESSAGE = 0x0000_0004;
/** `PIPE_READMODE_MESSAGE`: each read returns (part of) one message. */
export const PIPE_READMODE_MESSAGE = 0x0000_0002;
/** `PIPE_WAIT`: blocking mode (overlapped handles still complete asynchronously). */
export const PIPE_WAIT = 0x0000_0000;
/** `PIPE_REJECT_REMOTE_CLIENTS`: refuse connections from other machines. */
export const PIPE_REJECT_REMOTE_CLIENTS = 0x0000_0008;
/** `PIPE_UNLIMITED_INSTANCES`: no limit on concurrent instances. */
export const PIPE_UNLIMITED_INSTANCES = 255;
/** The largest explicit instance count `CreateNamedPipeW` accepts. */
export const PIPE_MAX_INSTANCES = 254;

// --- CreateFileW ----------------------------------------------------------------------------------

/** `GENERIC_READ`. */
export const GENERIC_READ = 0x8000_0000;
/**
 * `GENERIC_WRITE`. On a pipe it maps to `FILE_GENERIC_WRITE`, which includes `FILE_APPEND_DATA`,
 * that is `FILE_CREATE_PIPE_INSTANCE` ("Named Pipe Security and Access Rights").
 */
export const GENERIC_WRITE = 0x4000_0000;
/** `FILE_WRITE_DATA`: write to the pipe. */
export const FILE_WRITE_DATA = 0x0000_0002;
/** `FILE_WRITE_ATTRIBUTES`: what `SetNamedPipeHandleState` needs on the client end. */
export const FILE_WRITE_ATTRIBUTES = 0x0000_0100;
/**
 * `FILE_GENERIC_READ`: `READ_CONTROL | SYNCHRONIZE | FILE_READ_DATA | FILE_READ_ATTRIBUTES |
 * FILE_READ_EA`, what `GENERIC_READ` maps to on a pipe.
 */
export const FILE_GENERIC_READ = 0x0012_0089;
/** `OPEN_EXISTING`. */
export const OPEN_EXISTING = 3;
/** `SECURITY_SQOS_PRESENT`: the impersonation level below is meaningful. */
export const SECURITY_SQOS_PRESENT = 0x0010_0000;
/** `SECURITY_IDENTIFICATION`: the server may identify the client but not act as it. */
export const SECURITY_IDENTIFICATION = 0x0001_0000;

// --- SetFileCompletionNotificationModes ---------------------------------------------------------

/**
 * `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS`: an overlapped operation that completes at once queues
 * no packet; its result is taken straight from the call and its `OVERLAPPED`.
 */
export const FILE_SKIP_COMPLETION_PORT_ON_SUCCESS = 0x1;
/** `FILE_SKIP_SET_EVENT_ON_HANDLE`: completions leave the handle unsignalled (nobody waits on it). */
export const FILE_SKIP_SET_EVENT_ON_HANDLE = 0x2;
/** `WAIT_TIMEOUT`: a zero-timeout `GetQueuedCompletionStatusEx` found no packet. */
export const WAIT_TIMEOUT = 258;

// --- Security descriptors and tokens ----------------------------------------------------------------

/** `SDDL_REVISION_1`. */
export const SDDL_REVISION_1 = 1;
/** `TOKEN_QUERY`: access right to read a token's information. */
export const TOKEN_QUERY = 0x0008;
/** `TokenUser` of `TOKEN_INFORMATION_CLASS`: the token's user SID. */
export const TOKEN_USER_CLASS = 1;
/** `TokenOwner`: the SID the token makes the owner of objects it creates (user or Administrators). */
export const TOKEN_OWNER_CLASS = 4;
/** `SE_KERNEL_OBJECT` of `SE_OBJECT_TYPE`: a handle to a kernel object (here, a pipe). */
export const SE_KERNEL_OBJECT = 6;
/** `OWNER_SECURITY_INFORMATION`: read an object's owner SID. */
export const OWNER_SECURITY_INFORMATION = 0x1;
/** The well-known SID of LocalSystem (`SY`). */
export const SYSTEM_SID = "S-1-5-18";
/** The well-known SID of the BUILTIN\Administrators group (`BA`). */
export const ADMINISTRATORS_SID = "S-1-5-32-544";

// --- NtCreateFile, NtSetInformationFile --------------------------------------------------------

/** `SYNCHRONIZE`, which `CreateFileW` adds to every access it asks for. */
export const SYNCHRONIZE = 0x0010_0000;
/** `FILE_READ_ATTRIBUTES`, which `CreateFileW` adds too. */
export const FILE_READ_ATTRIBUTES = 0x0000_0080;
/** `FILE_OPEN`: the `CreateDisposition` of `OPEN_EXISTING`. */
export const FILE_OPEN = 1;
/** `FILE_NON_DIRECTORY_FILE`: the `CreateOptions` `CreateFileW` always passes. */
export const FILE_NON_DIRECTORY_FILE = 0x0000_0040;
/** `OBJ_CASE_INSENSITIVE`: names compare without case, as for `CreateFileW`. */
export const OBJ_CASE_INSENSITIVE = 0x0000_0040;
/** `SecurityIdentification` of `SECURITY_IMPERSONATION_LEVEL`. */
export const SECURITY_IDENTIFICATION_LEVEL = 1;
/** `FilePipeInformation` of `FILE_INFORMATION_CLASS` (what `SetNamedPipeHandleState` sets). */
export const FILE_PIPE_INFORMATION_CLASS = 23;
/** `FILE_PIPE_MESSAGE_MODE`: `FILE_PIPE_INFORMATION.ReadMode` for message reads. */
export const FILE_PIPE_MESSAGE_MODE = 1;
/** `FILE_PIPE_QUEUE_OPERATION`: `CompletionMode` of a blocking-mode (`PIPE_WAIT`) pipe. */
export const FILE_PIPE_QUEUE_OPERATION = 0;
/** `sizeof(OBJECT_ATTRIBUTES)`: Length, RootDirectory, ObjectName, Attributes, SD, SQOS. */
export const OBJECT_ATTRIBUTES_SIZE = 48;
/** Offset of `OBJECT_ATTRIBUTES.ObjectName`. */
export const OA_NAME = 16;
/** Offset of `OBJECT_ATTRIBUTES.Attributes`. */
export const OA_ATTRIBUTES = 24;
/** Offset of `OBJECT_ATTRIBUTES.SecurityQualityOfService`. */
export const OA_SQOS = 40;
/** `sizeof(UNICODE_STRING)`: Length and MaximumLength (bytes), then the `Buffer` pointer. */
export const UNICODE_STRING_SIZE = 16;
/** Offset of `UNICODE_STRING.Buffer`. */
export const US_BUFFER = 8;
/**
 * `sizeof(SECURITY_QUALITY_OF_SERVICE)`: Length, ImpersonationLevel (DWORDs), then the BOOLEANs
 * ContextTrackingMode and EffectiveOnly, padded.
 */
export const SQOS_SIZE = 12;
/** `sizeof(IO_STATUS_BLOCK)`: Status (padded to a pointer), Information. */
export const IO_STATUS_BLOCK_SIZE = 16;

// --- Win32 error codes ----------------------------------------------------------------------------

/** `ERROR_SUCCESS`. */
export const ERROR_SUCCESS = 0;
/** `ERROR_FILE_NOT_FOUND`: no pipe of that name (no server). */
export const ERROR_FILE_NOT_FOUND = 2;
/** `ERROR_NO_MORE_FILES`: `FindNextFileW` has listed every entry. */
export const ERROR_NO_MORE_FILES = 18;
/** `ERROR_PATH_NOT_FOUND`. */
export const ERROR_PATH_NOT_FOUND = 3;
/** `ERROR_ACCESS_DENIED`: refused by the security descriptor, or first instance already exists. */
export const ERROR_ACCESS_DENIED = 5;
/** `ERROR_INVALID_HANDLE`. */
export const ERROR_INVALID_HANDLE = 6;
/** `ERROR_NOT_ENOUGH_MEMORY`. */
export const ERROR_NOT_ENOUGH_MEMORY = 8;
/** `ERROR_BAD_DEV_TYPE`: the device cannot do that (Wine's answer to listing `\\.\pipe\`). */
export const ERROR_BAD_DEV_TYPE = 66;
/** `ERROR_INVALID_PARAMETER`. */
export const ERROR_INVALID_PARAMETER = 87;
/** `ERROR_BROKEN_PIPE`: the other end closed. */
export const ERROR_BROKEN_PIPE = 109;
/** `ERROR_INVALID_NAME`: the pipe name is malformed. */
export const ERROR_INVALID_NAME = 123;
/** `ERROR_BAD_PATHNAME`. */
export const ERROR_BAD_PATHNAME = 161;
/** `ERROR_ALREADY_EXISTS`: Wine's answer to a second first instance (it succeeds). */
export const ERROR_ALREADY_EXISTS = 183;
/** `ERROR_BAD_PIPE`. */
export const ERROR_BAD_PIPE = 230;
/** `ERROR_PIPE_BUSY`: every instance is in use. */
export const ERROR_PIPE_BUSY = 231;
/** `ERROR_NO_DATA`: the pipe is being closed (a client connected and already left). */
export const ERROR_NO_DATA = 232;
/** `ERROR_PIPE_NOT_CONNECTED`: no process is on the other end. */
export const ERROR_PIPE_NOT_CONNECTED = 233;
/** `ERROR_MORE_DATA`: the message is longer than the buffer; the rest stays in the pipe. */
export const ERROR_MORE_DATA = 234;
/** `ERROR_OPERATION_ABORTED`: cancelled by `CancelIoEx` or `CloseHandle`. */
export const ERROR_OPERATION_ABORTED = 995;
/** `ERROR_PIPE_CONNECTED`: a client connected before `ConnectNamedPipe`; no completion follows. */
export const ERROR_PIPE_CONNECTED = 535;
/** `ERROR_ABANDONED_WAIT_0`: the completion port was closed while a wait on it was outstanding. */
export const ERROR_ABANDONED_WAIT_0 = 735;

// --- NTSTATUS values -------------------------------------------------------------------------------

/** `STATUS_SUCCESS`. */
export const STATUS_SUCCESS = 0;
/** `STATUS_PENDING`: the operation continues (and what `OVERLAPPED.Internal` holds meanwhile). */
export const STATUS_PENDING = 0x0000_0103;
/** `STATUS_BUFFER_OVERFLOW`: a warning, `ERROR_MORE_DATA` in Win32 terms. */
export const STATUS_BUFFER_OVERFLOW = 0x8000_0005;
/** `FSCTL_PIPE_LISTEN`: the control code `ConnectNamedPipe` sends (`NtFsControlFile`). */
export const FSCTL_PIPE_LISTEN = 0x0011_0008;

/**
 * The severity of an NTSTATUS, its top two bits: 0 success, 1 informational, 2 warning, 3 error.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ntSeverity, STATUS_BUFFER_OVERFLOW } from "./ffi.ts";
 * assertEquals(ntSeverity(STATUS_BUFFER_OVERFLOW), 2);
 * ```
 */
export function ntSeverity(status: number): number {
  return status >>> 30;
}
/** `ntSeverity` of an error status (`NT_ERROR`): the call failed and queues no packet. */
export const SEVERITY_ERROR = 3;
/** `ntSeverity` of a warning (`NT_WARNING`), such as `STATUS_BUFFER_OVERFLOW`. */
export const SEVERITY_WARNING = 2;

/**
 * `NT_SUCCESS`: severity success or informational (0 or 1), `STATUS_PENDING` among them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ntSuccess, STATUS_BUFFER_OVERFLOW, STATUS_PENDING } from "./ffi.ts";
 * assertEquals([ntSuccess(STATUS_PENDING), ntSuccess(STATUS_BUFFER_OVERFLOW)], [true, false]);
 * ```
 */
export function ntSuccess(status: number): boolean {
  return ntSeverity(status) < SEVERITY_WARNING;
}

// --- Structure layouts (x64) ----------------------------------------------------------------------

/** `sizeof(DWORD)` (and of `ULONG`, `BOOL`). */
export const DWORD_SIZE = 4;
/** `sizeof(void *)` on 64-bit Windows. */
export const POINTER_SIZE = 8;

/** `sizeof(OVERLAPPED)`: Internal, InternalHigh, Offset, OffsetHigh, hEvent. */
export const OVERLAPPED_SIZE = 32;
/** Offset of `OVERLAPPED.Internal` (the NTSTATUS of the operation). */
export const OVERLAPPED_INTERNAL = 0;
/** Offset of `OVERLAPPED.InternalHigh` (bytes transferred). */
export const OVERLAPPED_INTERNAL_HIGH = 8;
/** Offset of `OVERLAPPED.Offset`, the `LARGE_INTEGER` file position (zero for pipes). */
export const OVERLAPPED_OFFSET = 16;

/** `sizeof(OVERLAPPED_ENTRY)`: lpCompletionKey, lpOverlapped, Internal, bytes, padding. */
export const OVERLAPPED_ENTRY_SIZE = 32;
/** Offset of `OVERLAPPED_ENTRY.lpOverlapped`. */
export const ENTRY_OVERLAPPED = 8;
/** Offset of `OVERLAPPED_ENTRY.dwNumberOfBytesTransferred`. */
export const ENTRY_BYTES = 24;

/** `sizeof(SECURITY_ATTRIBUTES)`: nLength, (padding), lpSecurityDescriptor, bInheritHandle. */
export const SECURITY_ATTRIBUTES_SIZE = 24;
/** Offset of `SECURITY_ATTRIBUTES.nLength`. */
export const SA_LENGTH = 0;
/** Offset of `SECURITY_ATTRIBUTES.lpSecurityDescriptor`. */
export const SA_DESCRIPTOR = 8;
/** Offset of `SECURITY_ATTRIBUTES.bInheritHandle`. */
export const SA_INHERIT = 16;

/**
 * `sizeof(WIN32_FIND_DATAW)`: dwFileAttributes, three FILETIMEs, nFileSizeHigh/Low, two reserved
 * DWORDs, cFileName[MAX_PATH] and cAlternateFileName[14] (WCHARs).
 */
export const WIN32_FIND_DATAW_SIZE = 592;
/** Offset of `WIN32_FIND_DATAW.cFileName`. */
export const FIND_DATA_FILE_NAME = 44;
/** `MAX_PATH`: the characters of `cFileName`, its NUL included. */
export const FIND_DATA_FILE_NAME_CHARS = 260;

// --- Symbol tables ----------------------------------------------------------------------------------

const GET_QUEUED = [
  "pointer", // CompletionPort
  "buffer", // lpCompletionPortEntries
  "u32", // ulCount
  "buffer", // ulNumEntriesRemoved
  "u32", // dwMilliseconds
  "i32", // fAlertable
] as const;

// Every parameter is labelled with its name in the Windows SDK: Deno's FFI `parameters` take
// bare type names, so the labels are comments.
const KERNEL32 = {
  CreateNamedPipeW: {
    parameters: [
      "buffer", // lpName
      "u32", // dwOpenMode
      "u32", // dwPipeMode
      "u32", // nMaxInstances
      "u32", // nOutBufferSize
      "u32", // nInBufferSize
      "u32", // nDefaultTimeOut
      "buffer", // lpSecurityAttributes
    ],
    result: "pointer",
  },
  CreateFileW: {
    parameters: [
      "buffer", // lpFileName
      "u32", // dwDesiredAccess
      "u32", // dwShareMode
      "pointer", // lpSecurityAttributes
      "u32", // dwCreationDisposition
      "u32", // dwFlagsAndAttributes
      "pointer", // hTemplateFile
    ],
    result: "pointer",
  },
  CancelIoEx: {
    parameters: [
      "pointer", // hFile
      "pointer", // lpOverlapped
    ],
    result: "i32",
  },
  CloseHandle: { parameters: ["pointer" /* hObject */], result: "i32" },
  // Only its lpTotalBytesAvail is used: whether more messages wait in the pipe (never blocks).
  PeekNamedPipe: {
    parameters: [
      "pointer", // hNamedPipe
      "pointer", // lpBuffer
      "u32", // nBufferSize
      "pointer", // lpBytesRead
      "buffer", // lpTotalBytesAvail
      "pointer", // lpBytesLeftThisMessage
    ],
    result: "i32",
  },
  CreateIoCompletionPort: {
    parameters: [
      "pointer", // FileHandle
      "pointer", // ExistingCompletionPort
      "usize", // CompletionKey
      "u32", // NumberOfConcurrentThreads
    ],
    result: "pointer",
  },
  GetQueuedCompletionStatusEx: {
    parameters: GET_QUEUED,
    result: "i32",
    // Runs on a worker thread: the event loop stays free while the one waiter blocks.
    nonblocking: true,
  },
  // The same function called on the event loop's thread, only ever with a zero timeout: takes the
  // packets already queued without the hop through Deno's blocking pool.
  GetQueuedCompletionStatusExNow: {
    name: "GetQueuedCompletionStatusEx",
    parameters: GET_QUEUED,
    result: "i32",
  },
  SetFileCompletionNotificationModes: {
    parameters: [
      "pointer", // FileHandle
      "u8", // Flags
    ],
    result: "i32",
  },
  GetLastError: { parameters: [], result: "u32" },
  SetLastError: { parameters: ["u32" /* dwErrCode */], result: "void" },
  GetCurrentProcess: { parameters: [], result: "pointer" },
  SetConsoleCtrlHandler: {
    parameters: [
      "pointer", // HandlerRoutine
      "i32", // Add
    ],
    result: "i32",
  },
  LocalFree: { parameters: ["pointer" /* hMem */], result: "pointer" },
  FindFirstFileW: {
    parameters: [
      "buffer", // lpFileName
      "buffer", // lpFindFileData
    ],
    result: "pointer",
  },
  FindNextFileW: {
    parameters: [
      "pointer", // hFindFile
      "buffer", // lpFindFileData
    ],
    result: "i32",
  },
  FindClose: { parameters: ["pointer" /* hFindFile */], result: "i32" },
} as const;

const ADVAPI32 = {
  OpenProcessToken: {
    parameters: [
      "pointer", // ProcessHandle
      "u32", // DesiredAccess
      "buffer", // TokenHandle
    ],
    result: "i32",
  },
  GetTokenInformation: {
    parameters: [
      "pointer", // TokenHandle
      "u32", // TokenInformationClass
      "buffer", // TokenInformation
      "u32", // TokenInformationLength
      "buffer", // ReturnLength
    ],
    result: "i32",
  },
  ConvertSidToStringSidW: {
    parameters: [
      "pointer", // Sid
      "buffer", // StringSid
    ],
    result: "i32",
  },
  // Returns its Win32 error itself: no GetLastError read follows it.
  GetSecurityInfo: {
    parameters: [
      "pointer", // handle
      "u32", // ObjectType
      "u32", // SecurityInfo
      "buffer", // ppsidOwner
      "pointer", // ppsidGroup
      "pointer", // ppDacl
      "pointer", // ppSacl
      "buffer", // ppSecurityDescriptor
    ],
    result: "u32",
  },
  LookupAccountSidW: {
    parameters: [
      "pointer", // lpSystemName
      "pointer", // Sid
      "buffer", // Name
      "buffer", // cchName
      "buffer", // ReferencedDomainName
      "buffer", // cchReferencedDomainName
      "buffer", // peUse
    ],
    result: "i32",
  },
  ConvertStringSecurityDescriptorToSecurityDescriptorW: {
    parameters: [
      "buffer", // StringSecurityDescriptor
      "u32", // StringSDRevision
      "buffer", // SecurityDescriptor
      "pointer", // SecurityDescriptorSize
    ],
    result: "i32",
  },
} as const;

// The I/O calls return their NTSTATUS, so no last-error read follows them. Arguments as kernel32
// passes them for an overlapped call: no event, no APC routine, the OVERLAPPED as both the APC
// context (what the completion packet carries) and the IO_STATUS_BLOCK (Internal, InternalHigh).
const NT_IO = [
  "pointer", // FileHandle
  "pointer", // Event
  "pointer", // ApcRoutine
  "pointer", // ApcContext
  "pointer", // IoStatusBlock
] as const;

// `NtReadFile` and `NtWriteFile` take the same arguments.
const NT_TRANSFER = {
  parameters: [
    ...NT_IO,
    "buffer", // Buffer
    "u32", // Length
    "pointer", // ByteOffset
    "pointer", // Key
  ],
  result: "u32",
} as const;

const NTDLL = {
  RtlNtStatusToDosError: { parameters: ["u32" /* Status */], result: "u32" },
  NtReadFile: NT_TRANSFER,
  NtWriteFile: NT_TRANSFER,
  // What CreateFileW calls, returning the NTSTATUS itself (no GetLastError read to go wrong).
  NtCreateFile: {
    parameters: [
      "buffer", // FileHandle
      "u32", // DesiredAccess
      "buffer", // ObjectAttributes
      "buffer", // IoStatusBlock
      "pointer", // AllocationSize
      "u32", // FileAttributes
      "u32", // ShareAccess
      "u32", // CreateDisposition
      "u32", // CreateOptions
      "pointer", // EaBuffer
      "u32", // EaLength
    ],
    result: "u32",
  },
  // What SetNamedPipeHandleState calls (FilePipeInformation), returning the NTSTATUS.
  NtSetInformationFile: {
    parameters: [
      "pointer", // FileHandle
      "buffer", // IoStatusBlock
      "buffer", // FileInformation
      "u32", // Length
      "u32", // FileInformationClass
    ],
    result: "u32",
  },
  NtFsControlFile: {
    parameters: [
      ...NT_IO,
      "u32", // FsControlCode
      "pointer", // InputBuffer
      "u32", // InputBufferLength
      "pointer", // OutputBuffer
      "u32", // OutputBufferLength
    ],
    result: "u32",
  },
} as const;

/** The loaded kernel32 symbols. */
export type Kernel32 = Deno.DynamicLibrary<typeof KERNEL32>["symbols"];
/** The loaded advapi32 symbols. */
export type Advapi32 = Deno.DynamicLibrary<typeof ADVAPI32>["symbols"];
/** The loaded ntdll symbols. */
export type Ntdll = Deno.DynamicLibrary<typeof NTDLL>["symbols"];

let kernel32: Kernel32 | undefined;
let advapi32: Advapi32 | undefined;
let ntdll: Ntdll | undefined;

/**
 * The kernel32 symbols, loaded on first use (Windows only).
 *
 * @example
 * ```ts ignore
 * import { kernel32Symbols } from "./ffi.ts";
 * console.log(kernel32Symbols().GetLastError());
 * ```
 */
export function kernel32Symbols(): Kernel32 {
  return kernel32 ??= Deno.dlopen("kernel32.dll", KERNEL32).symbols;
}

/**
 * The advapi32 symbols (tokens, SIDs, security descriptors), loaded on first use.
 *
 * @example
 * ```ts ignore
 * import { advapi32Symbols } from "./ffi.ts";
 * console.log(typeof advapi32Symbols().OpenProcessToken);
 * ```
 */
export function advapi32Symbols(): Advapi32 {
  return advapi32 ??= Deno.dlopen("advapi32.dll", ADVAPI32).symbols;
}

/**
 * The ntdll symbols, loaded on first use.
 *
 * @example
 * ```ts ignore
 * import { ntdllSymbols } from "./ffi.ts";
 * console.log(ntdllSymbols().RtlNtStatusToDosError(0xc0000120)); // 995, ERROR_OPERATION_ABORTED
 * ```
 */
export function ntdllSymbols(): Ntdll {
  return ntdll ??= Deno.dlopen("ntdll.dll", NTDLL).symbols;
}

/**
 * Encodes a string as a NUL-terminated UTF-16LE buffer, the `LPCWSTR` of the `…W` functions.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { wideString } from "./ffi.ts";
 * assertEquals(wideString("ab").length, 6);
 * ```
 */
export function wideString(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint16Array(new ArrayBuffer((text.length + 1) * 2));
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return new Uint8Array(out.buffer);
}

/**
 * Whether a handle returned by `CreateFileW` or `CreateNamedPipeW` is the failure value.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { isInvalidHandle } from "./ffi.ts";
 * assertEquals(isInvalidHandle(null), true);
 * ```
 */
export function isInvalidHandle(handle: Deno.PointerValue): boolean {
  return handle === null || Deno.UnsafePointer.value(handle) === INVALID_HANDLE_VALUE;
}
