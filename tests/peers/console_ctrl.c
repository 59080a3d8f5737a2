/*
 * Runs one console program in a console of its own and, on request, presses Ctrl+C in that
 * console: the way a user stops a server in its terminal window, for a test that has no console.
 *
 * Usage: console_ctrl.exe [--new-group] "COMMAND LINE"
 *
 * The program gets a new console without a window (CREATE_NO_WINDOW; under Wine a headless
 * conhost), stdin from NUL, and this process's stdout and stderr. It runs in a job that is
 * killed when this process ends, so a test that kills this process leaves nothing behind.
 *
 * When a byte (or the end) arrives on this process's stdin: on a byte, it attaches to the
 * program's console and generates CTRL_C_EVENT (CTRL_BREAK_EVENT if the byte is 'b') for everyone
 * on it (this process ignores it), then waits for the program; on the end of stdin, it terminates
 * the program and fails.
 *
 * Nothing is written to stdout. When the program has exited, this process writes one line on
 * stderr, "console_ctrl: the program exited with status N after Ctrl+C" (or "after Ctrl+Break",
 * or "on its own"), and
 * exits with N: the line proves this process saw the program end, rather than dying of the
 * event itself and taking the program down with its job. Its own failures are one line on
 * stderr and status HELPER_FAILED.
 *
 * Why a console of its own: Ctrl+C goes to every process of a console, so the program must not
 * share one with the test runner. By default the program starts with Ctrl+C handled, whatever
 * this process inherited. With --new-group it starts in a new process group
 * (CREATE_NEW_PROCESS_GROUP) and so inherits "ignore Ctrl+C", as when a runner or a service
 * wrapper starts it that way: the program must turn that off itself to be stoppable.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

/* Exit status of this helper's own failures (not a status duct's server uses). */
#define HELPER_FAILED 125

static HANDLE requested;
static char request_byte;

/* Ctrl+C and Ctrl+Break are for the program: this process stays to report how it ended. The
 * default handler would end this process (under Wine with status 0 for Ctrl+Break). */
static BOOL WINAPI ignore_event(DWORD event) {
    (void)event;
    return TRUE;
}

static int fail(const char *what) {
    fprintf(stderr, "console_ctrl: %s failed: error %lu\n", what, GetLastError());
    return HELPER_FAILED;
}

/* Waits for one byte or the end of stdin, then signals `requested`. */
static DWORD WINAPI read_request(LPVOID result) {
    DWORD read = 0;
    if (!ReadFile(GetStdHandle(STD_INPUT_HANDLE), &request_byte, 1, &read, NULL)) read = 0;
    *(DWORD *)result = read;
    SetEvent(requested);
    return 0;
}

int main(int argc, char **argv) {
    int new_group = argc == 3 && strcmp(argv[1], "--new-group") == 0;
    if (argc != 2 + new_group) {
        fprintf(stderr, "usage: console_ctrl [--new-group] \"COMMAND LINE\"\n");
        return HELPER_FAILED;
    }
    const char *command = argv[1 + new_group];
    HANDLE job = CreateJobObjectA(NULL, NULL);
    if (job == NULL) return fail("CreateJobObject");
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
        return fail("SetInformationJobObject");
    }

    SECURITY_ATTRIBUTES inheritable = {sizeof inheritable, NULL, TRUE};
    HANDLE nul = CreateFileA("NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inheritable,
                             OPEN_EXISTING, 0, NULL);
    if (nul == INVALID_HANDLE_VALUE) return fail("CreateFile(NUL)");
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    if (!SetHandleInformation(out, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT) ||
        !SetHandleInformation(err, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)) {
        return fail("SetHandleInformation");
    }
    STARTUPINFOA startup = {0};
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = nul;
    startup.hStdOutput = out;
    startup.hStdError = err;
    /* Whether a process ignores Ctrl+C is inherited: whatever started this one (a runner that
     * used a new process group, say), the program starts with Ctrl+C handled unless asked. */
    if (!SetConsoleCtrlHandler(NULL, FALSE)) return fail("SetConsoleCtrlHandler");
    PROCESS_INFORMATION child;
    /* Suspended until it is in the job, so nothing it starts (its conhost) escapes the job. */
    if (!CreateProcessA(NULL, (char *)command, NULL, NULL, TRUE, CREATE_NO_WINDOW | CREATE_SUSPENDED | (new_group ? CREATE_NEW_PROCESS_GROUP : 0),
                        NULL, NULL, &startup, &child)) {
        return fail("CreateProcess");
    }
    if (!AssignProcessToJobObject(job, child.hProcess)) {
        TerminateProcess(child.hProcess, HELPER_FAILED);
        return fail("AssignProcessToJobObject");
    }
    ResumeThread(child.hThread);
    /* Only the program holds our stdout now: it ends when the program's output does. */
    CloseHandle(out);
    CloseHandle(nul);

    DWORD request = 0;
    requested = CreateEventA(NULL, TRUE, FALSE, NULL);
    if (requested == NULL || CreateThread(NULL, 0, read_request, &request, 0, NULL) == NULL) {
        TerminateJobObject(job, HELPER_FAILED);
        return fail("CreateThread");
    }
    HANDLE waits[2] = {child.hProcess, requested};
    DWORD woken = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
    if (woken == WAIT_OBJECT_0 + 1) {
        if (request == 0) {
            TerminateJobObject(job, HELPER_FAILED);
            fprintf(stderr, "console_ctrl: stdin ended before Ctrl+C was requested\n");
            return HELPER_FAILED;
        }
        /* Ctrl+C reaches the processes of the caller's console: join the program's (leaving
         * ours first, if there is one; AttachConsole reports it if that did not work). */
        FreeConsole();
        if (!AttachConsole(child.dwProcessId)) {
            TerminateJobObject(job, HELPER_FAILED);
            return fail("AttachConsole");
        }
        DWORD event = request_byte == 'b' ? CTRL_BREAK_EVENT : CTRL_C_EVENT;
        if (!SetConsoleCtrlHandler(ignore_event, TRUE) || !GenerateConsoleCtrlEvent(event, 0)) {
            TerminateJobObject(job, HELPER_FAILED);
            return fail("GenerateConsoleCtrlEvent");
        }
        WaitForSingleObject(child.hProcess, INFINITE);
    }
    DWORD status = HELPER_FAILED;
    if (!GetExitCodeProcess(child.hProcess, &status)) return fail("GetExitCodeProcess");
    fprintf(stderr, "console_ctrl: the program exited with status %lu %s\n", status,
            woken == WAIT_OBJECT_0 ? "on its own"
            : request_byte == 'b' ? "after Ctrl+Break"
                                  : "after Ctrl+C");
    return (int)status;
}
