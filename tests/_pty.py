"""Runs a command on a pseudo-terminal (its stdin, stdout and stderr) through a script of steps.

Usage: python3 _pty.py STEPS_JSON COMMAND ARGS...  (Unix only)

STEPS_JSON is a list of [action, text]: ["expect", text] waits until the terminal shows text
(after what earlier steps matched), ["send", text] types it (use "\\u0003" for Ctrl+C), ["sync",
label] prints label on a line of this script's stdout and waits for a line on its stdin. At the
end it reads until the command exits and prints one JSON line: {"output": ..., "status": ...},
status being 128 + the signal for a command a signal ended.
"""

import json
import os
import pty
import select
import sys
import time

LIMIT_S = 45


def main():
    steps = json.loads(sys.argv[1])
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    output = b""
    matched = 0
    open_ = True

    def read(timeout):
        nonlocal output, open_
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the command exited and closed the terminal
            data = b""
        if data:
            output += data
        else:
            open_ = False

    for action, text in steps:
        if action == "expect":
            deadline = time.monotonic() + LIMIT_S
            wanted = text.encode()
            while output.find(wanted, matched) < 0:
                if not open_ or time.monotonic() > deadline:
                    sys.exit(f"never saw {text!r}; terminal showed {output!r}")
                read(0.1)
            matched = output.find(wanted, matched) + len(wanted)
        elif action == "send":
            os.write(fd, text.encode())
        elif action == "sync":
            print(text, flush=True)
            sys.stdin.readline()
    deadline = time.monotonic() + LIMIT_S
    while open_ and time.monotonic() < deadline:
        read(0.1)
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    print(json.dumps({"output": output.decode(errors="replace"), "status": code}), flush=True)


main()
