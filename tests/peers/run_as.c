/*
 * Runs a command line as another local user (CreateProcessWithLogonW) and exits with its status.
 *
 * Usage: run_as.exe USER PASSWORD DIRECTORY "COMMAND LINE"
 * DIRECTORY is the program's working directory (one that user can enter). Its own failures are one
 * line on stderr and status HELPER_FAILED.
 */
#include <windows.h>
#include <stdio.h>

#define HELPER_FAILED 125
#define MAX_WIDE 1024

static int fail(const char *what) {
    fprintf(stderr, "run_as: %s failed: error %lu\n", what, GetLastError());
    return HELPER_FAILED;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: run_as USER PASSWORD DIRECTORY \"COMMAND LINE\"\n");
        return HELPER_FAILED;
    }
    WCHAR wide[4][MAX_WIDE];
    for (int i = 0; i < 4; i++) {
        if (!MultiByteToWideChar(CP_ACP, 0, argv[i + 1], -1, wide[i], MAX_WIDE)) {
            return fail("MultiByteToWideChar");
        }
    }
    STARTUPINFOW startup = {0};
    startup.cb = sizeof startup;
    PROCESS_INFORMATION child;
    if (!CreateProcessWithLogonW(wide[0], L".", wide[1], LOGON_WITH_PROFILE, NULL, wide[3],
                                 CREATE_NO_WINDOW, NULL, wide[2], &startup, &child)) {
        return fail("CreateProcessWithLogonW");
    }
    WaitForSingleObject(child.hProcess, INFINITE);
    DWORD status = HELPER_FAILED;
    if (!GetExitCodeProcess(child.hProcess, &status)) return fail("GetExitCodeProcess");
    return (int)status;
}
