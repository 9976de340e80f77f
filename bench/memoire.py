"""Peak memory of a benchmark's process, shared by the scripts of bench/ (each runs from this folder)."""

import resource


def pic_memoire_mo() -> float:
    """Peak resident memory of this process, in MB: VmHWM on Linux (reset at exec, unlike ru_maxrss)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
