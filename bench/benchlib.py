"""What the benchmark modules share (bench/bench.py, risk.py, dunning.py, kpi.py).

- paths: the build ($BUILD, else $CREANCE_BUILD, else build-bench) and its
  generated Python (gen/py) and tests/e2e (stack.py) on sys.path, so that
  each module also runs alone with Debian's python3;
- BenchStack: tests/e2e/stack.py's Stack at the production log level,
  whose services' peak RSS is followed for the whole run (RssTracker);
- small helpers: log, percentile, machine.

Peak RSS: VmHWM is per process and is lost when a service stops, and the
sections stop and restart services and open fresh stacks. So the tracker
reads each service's VmHWM right before every stop and at close, and a
thread reads it every 0.2 s in case a process ends another way; a
service's figure is the highest over every process that ran under its
name, in every stack of the run.
"""
import os
import sys
import threading

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def build_dir():
    build = os.environ.get("BUILD") or os.environ.get("CREANCE_BUILD") or "build-bench"
    return build if os.path.isabs(build) else os.path.join(REPO, build)


for _p in (os.path.join(build_dir(), "gen", "py"), os.path.join(REPO, "tests", "e2e")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import stack as stackmod  # noqa: E402


def log(msg, who="bench"):
    sys.stderr.write("%s: %s\n" % (who, msg))
    sys.stderr.flush()


def percentile(values, p):
    """The p-th percentile (0..100) by nearest rank; nan when empty."""
    v = sorted(values)
    if not v:
        return float("nan")
    i = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[i]


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return "%d CPUs (%s), %.1f GiB RAM, %s" % (os.cpu_count(), model, mem_kb / 2**20,
                                              os.uname().release)


def proc_status(pid, keys=("VmRSS", "VmHWM")):
    """{key: MB} from /proc/<pid>/status; {} when the process is gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    out[k] = int(v.split()[0]) / 1024.0
    except (OSError, ValueError):
        pass
    return out


class RssTracker:
    """Highest VmHWM (MB) seen per service name, over processes and stacks."""

    def __init__(self):
        self.peak = {}
        # Where each service's peak was reached: VmHWM only grows, so a
        # rise seen while `section` runs is that section's (a process
        # living through several sections keeps its earlier peak).
        self.section = "start"
        self.peak_in = {}
        self.last = {}
        self.lock = threading.Lock()
        self.stacks = []
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def read(self, s, svc):
        p = s.procs.get(svc)
        if p is None or p.poll() is not None:
            return
        mb = proc_status(p.pid, ("VmHWM",)).get("VmHWM")
        if mb is not None:
            with self.lock:
                if mb > self.last.get(p.pid, 0.0):
                    self.last[p.pid] = mb
                    if mb > self.peak.get(svc, 0.0):
                        self.peak_in[svc] = self.section
                self.peak[svc] = max(self.peak.get(svc, 0.0), mb)

    def read_all(self, s):
        # Services and their extra instances ("intake.1"), not PostgreSQL or Redis.
        for name in list(s.procs):
            if name.split(".")[0] in stackmod.SERVICES:
                self.read(s, name)

    def _poll(self):
        while not self.stop_ev.wait(0.2):
            for s in list(self.stacks):
                self.read_all(s)

    def close(self):
        self.stop_ev.set()
        self.thread.join()


_tracker = None


def tracker():
    """The run's tracker (one per process, started on first use)."""
    global _tracker
    if _tracker is None:
        _tracker = RssTracker()
    return _tracker


class BenchStack(stackmod.Stack):
    """A Stack at the production log level whose services' peak RSS is
    recorded before each stop and at close."""

    def __init__(self, build=None):
        super().__init__(build=build or build_dir())
        # Benchmarks run at the production log level, not the tests' debug.
        self.env["CREANCE_LOG_LEVEL"] = "info"
        self.rss = tracker()

    def open(self):
        self.rss.stacks.append(self)
        return super().open()

    def stop(self, svc, timeout=stackmod.STOP_TIMEOUT):
        self.rss.read(self, svc)
        return super().stop(svc, timeout=timeout)

    def close(self):
        self.rss.read_all(self)
        if self in self.rss.stacks:
            self.rss.stacks.remove(self)
        super().close()
