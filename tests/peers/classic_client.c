/*
 * A classic Win32 named-pipe client, written the way the Windows SDK samples do it: opens the
 * pipe, switches it to message read mode, writes each message as a NUL-terminated string
 * (strlen + 1 bytes) and reads one reply message per request. duct's server talks to it with
 * `--framing nul`.
 *
 * Usage: classic_client.exe [--no-wait] \\.\pipe\NAME MESSAGE...
 * Prints "server: REPLY" for each reply. Exits 0 when every message got its reply. With
 * --no-wait it does not call WaitNamedPipe: ERROR_PIPE_BUSY fails it at once, as it does the many
 * clients that never wait.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define BUFFER_SIZE 512
#define CONNECT_ATTEMPTS 200
#define RETRY_MS 25
#define BUSY_WAIT_MS 5000

int main(int argc, char **argv) {
    int no_wait = argc > 1 && strcmp(argv[1], "--no-wait") == 0;
    if (no_wait) {
        argv++;
        argc--;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: classic_client [--no-wait] PIPE MESSAGE...\n");
        return 2;
    }
    HANDLE pipe = INVALID_HANDLE_VALUE;
    for (int attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++) {
        pipe = CreateFileA(argv[1], GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (pipe != INVALID_HANDLE_VALUE) break;
        DWORD error = GetLastError();
        if (error == ERROR_PIPE_BUSY && no_wait) {
            fprintf(stderr, "CreateFile failed: %lu (ERROR_PIPE_BUSY)\n", error);
            return 1;
        } else if (error == ERROR_PIPE_BUSY) {
            WaitNamedPipeA(argv[1], BUSY_WAIT_MS);
        } else if (error == ERROR_FILE_NOT_FOUND) {
            Sleep(RETRY_MS);
        } else {
            fprintf(stderr, "CreateFile failed: %lu\n", error);
            return 1;
        }
    }
    if (pipe == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "no server on %s\n", argv[1]);
        return 1;
    }
    DWORD mode = PIPE_READMODE_MESSAGE;
    if (!SetNamedPipeHandleState(pipe, &mode, NULL, NULL)) {
        fprintf(stderr, "SetNamedPipeHandleState failed: %lu\n", GetLastError());
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        DWORD written = 0;
        if (!WriteFile(pipe, argv[i], (DWORD)strlen(argv[i]) + 1, &written, NULL)) {
            fprintf(stderr, "WriteFile failed: %lu\n", GetLastError());
            return 1;
        }
        char reply[BUFFER_SIZE];
        DWORD read = 0;
        BOOL ok;
        do {
            ok = ReadFile(pipe, reply, sizeof reply - 1, &read, NULL);
            if (!ok && GetLastError() != ERROR_MORE_DATA) {
                fprintf(stderr, "ReadFile failed: %lu\n", GetLastError());
                return 1;
            }
            reply[read] = '\0';
            printf("server: %s\n", reply);
            fflush(stdout);
        } while (!ok);
    }
    CloseHandle(pipe);
    return 0;
}
