"""Memory probes shared by the benchmarks that measure peak RSS.

Not a benchmark: ``bench_path_memory.py`` and ``bench_slide.py`` import it (they
run as scripts, so this folder is on ``sys.path``).
"""

import threading


def status_bytes(field):
    """A ``kB`` field of /proc/self/status (Linux), in bytes; None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def rss_reader():
    """Return ``(source, read)``: how RSS is read, and a function reading it."""
    try:
        import psutil

        process = psutil.Process()
        return "psutil", lambda: process.memory_info().rss
    except ImportError:
        return "/proc/self/status VmRSS", lambda: status_bytes("VmRSS")


def reset_high_water_mark():
    """Reset VmHWM to the current RSS (Linux >= 4.0); return whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakSampler:
    """Samples RSS in a background thread and keeps the maximum."""

    def __init__(self, read_rss, interval=0.005):
        self.read_rss = read_rss
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read_rss())
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = self.read_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.read_rss())
        return False
