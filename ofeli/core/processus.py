"""Which process runs a long job, so that a job whose process was killed is known dead at once.

A job records `processus_courant()` when it starts. Another process finding it "en cours" asks
`processus_arrete(hote, pid)`: True only when the job ran on this same machine and no process has that number
any more. A job of another machine, or whose number was reused, is not known dead: the caller then waits for its
own inactivity delay.
"""

import os
import socket


def processus_courant() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def processus_arrete(hote: str, pid: int | None) -> bool:
    if not pid or hote != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user has that number: alive
        return False
    return False
