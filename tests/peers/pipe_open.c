/*
 * Opens a named pipe with the access mask given, as a client would, and closes it again.
 *
 * Usage: pipe_open.exe PIPE_PATH ACCESS_HEX
 * Exits 0 when CreateFile succeeded, otherwise with its Win32 error code (5 for
 * ERROR_ACCESS_DENIED), so that a test run as another user needs no output from it.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: pipe_open PIPE_PATH ACCESS_HEX\n");
        return 2;
    }
    DWORD access = (DWORD)strtoul(argv[2], NULL, 16);
    HANDLE pipe = CreateFileA(argv[1], access, 0, NULL, OPEN_EXISTING,
                              SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    if (pipe == INVALID_HANDLE_VALUE) {
        DWORD error = GetLastError();
        fprintf(stderr, "pipe_open: CreateFile(%s, 0x%08lx) failed: %lu\n", argv[1], access, error);
        return (int)error;
    }
    CloseHandle(pipe);
    return 0;
}
