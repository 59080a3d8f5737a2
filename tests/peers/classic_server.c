/*
 * A classic Win32 named-pipe server, written the way the Windows SDK samples do it: a duplex
 * message-mode pipe, blocking I/O, NUL-terminated strings without any length prefix. duct's
 * client talks to it with `--framing nul`.
 *
 * Usage: classic_server.exe \\.\pipe\NAME [CLIENTS [open]]
 * Serves CLIENTS clients (default 1) one after the other. With "open", the pipe has a NULL DACL
 * (anyone may open it), as a careless or hostile server of another user would make it. For each message it prints
 * "client: TEXT" and answers "Message received successfully" (strlen + 1 bytes). Prints
 * "ready" once the first instance exists, so a test knows when to connect.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_SIZE 512
#define REPLY "Message received successfully"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: classic_server PIPE [CLIENTS]\n");
        return 2;
    }
    int clients = argc > 2 ? atoi(argv[2]) : 1;
    SECURITY_DESCRIPTOR open;
    SECURITY_ATTRIBUTES attributes = {sizeof attributes, &open, FALSE};
    LPSECURITY_ATTRIBUTES security = NULL;
    if (argc > 3 && strcmp(argv[3], "open") == 0) {
        if (!InitializeSecurityDescriptor(&open, SECURITY_DESCRIPTOR_REVISION) ||
            !SetSecurityDescriptorDacl(&open, TRUE, NULL, FALSE)) {
            fprintf(stderr, "cannot build a NULL DACL: %lu\n", GetLastError());
            return 1;
        }
        security = &attributes;
    }
    for (int served = 0; served < clients; served++) {
        HANDLE pipe = CreateNamedPipeA(argv[1], PIPE_ACCESS_DUPLEX,
                                       PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
                                       PIPE_UNLIMITED_INSTANCES, BUFFER_SIZE, BUFFER_SIZE, 0, security);
        if (pipe == INVALID_HANDLE_VALUE) {
            fprintf(stderr, "CreateNamedPipe failed: %lu\n", GetLastError());
            return 1;
        }
        if (served == 0) {
            printf("ready\n");
            fflush(stdout);
        }
        BOOL connected = ConnectNamedPipe(pipe, NULL) || GetLastError() == ERROR_PIPE_CONNECTED;
        if (!connected) {
            fprintf(stderr, "ConnectNamedPipe failed: %lu\n", GetLastError());
            CloseHandle(pipe);
            return 1;
        }
        char message[BUFFER_SIZE];
        for (;;) {
            DWORD read = 0;
            BOOL ok = ReadFile(pipe, message, sizeof message - 1, &read, NULL);
            if (!ok || read == 0) {
                DWORD error = ok ? ERROR_SUCCESS : GetLastError();
                if (error != ERROR_SUCCESS && error != ERROR_BROKEN_PIPE) {
                    fprintf(stderr, "ReadFile failed: %lu\n", error);
                }
                break;
            }
            message[read] = '\0';
            printf("client: %s\n", message);
            fflush(stdout);
            DWORD written = 0;
            if (!WriteFile(pipe, REPLY, (DWORD)strlen(REPLY) + 1, &written, NULL)) {
                fprintf(stderr, "WriteFile failed: %lu\n", GetLastError());
                break;
            }
        }
        FlushFileBuffers(pipe);
        DisconnectNamedPipe(pipe);
        CloseHandle(pipe);
    }
    return 0;
}
