"""Scale of Twisted's task.LoopingCall on the real reactor: the peer of bench/scale.mjs.

Same seed, intervals (1-60 s, or 1-60 minutes with --unit min: the idle variant) and phases, drawn as
scale.mjs draws them. The phase backdates the grid anchor exactly as scale.mjs does:
one shared clock whose next seconds() is shifted back by the phase; LoopingCall.start(now=True) reads it
for its anchor, calls f, then schedules from a fresh seconds(), so the first fire comes interval - phase
after setup. Measures setup time, VmRSS (/proc/self/status) per schedule
after gc.collect(), and CPU (resource.getrusage) over the window, and counts the reactor's wakes in it
(runUntilCurrent calls: one per mainLoop iteration). Prints one JSON line.
"""

import gc
import resource
import sys
import time

from common import checksum, emit, mulberry32, parse_args
from twisted.internet import reactor
from twisted.internet.task import LoopingCall

args = parse_args()
count = int(args.get("count", 100000))
window_s = int(args.get("window", 10000)) / 1000.0
settle_s = int(args.get("settle", 1000)) / 1000.0
seed = int(args.get("seed", 7))
unit = "min" if args.get("unit") == "min" else "s"
unit_ms = 60000 if unit == "min" else 1000


def schedules(seed, count, unit_ms):
    """common.scale_schedules with the unit as a parameter (the same draws as scale.mjs)."""
    rand = mulberry32(seed)
    intervals, phases = [], []
    for _ in range(count):
        n = 1 + int(rand() * 60)
        intervals.append(n)
        phases.append(int(rand() * n * unit_ms / 10) * 10)
    return intervals, phases


intervals, phases_ms = schedules(seed, count, unit_ms)


def vm_rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class BackdatingClock:
    """Passes callLater through to the reactor; its next seconds() can be shifted back by a phase."""

    def __init__(self):
        self.backdate = 0.0

    def seconds(self):
        shift = self.backdate
        self.backdate = 0.0
        return reactor.seconds() - shift

    def callLater(self, delay, fn, *a, **kw):
        return reactor.callLater(delay, fn, *a, **kw)


fires = 0


def body():
    global fires
    fires += 1


clock = BackdatingClock()
gc.collect()
rss_before = vm_rss_bytes()
t0 = time.perf_counter()
loops = []
for i in range(count):
    loop = LoopingCall(body)
    loop.clock = clock
    clock.backdate = phases_ms[i] / 1000.0
    loop.start(intervals[i] * unit_ms / 1000.0, now=True)
    loops.append(loop)
setup_ms = (time.perf_counter() - t0) * 1000
gc.collect()
rss_after = vm_rss_bytes()

window = {}
wakes = 0
_run_until_current = reactor.runUntilCurrent


def counting_run_until_current():
    global wakes
    wakes += 1
    _run_until_current()


reactor.runUntilCurrent = counting_run_until_current


def begin_window():
    window["fires"] = fires
    window["wakes"] = wakes
    window["ru"] = resource.getrusage(resource.RUSAGE_SELF)
    window["t"] = time.monotonic()
    reactor.callLater(window_s, end_window)


def end_window():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    window["wall"] = time.monotonic() - window["t"]
    window["sys"] = ru.ru_stime - window["ru"].ru_stime
    window["cpu"] = (ru.ru_utime - window["ru"].ru_utime) + window["sys"]
    window["fires"] = fires - window["fires"]
    window["wakes"] = wakes - window["wakes"] - 1  # less the window's own end
    reactor.stop()


reactor.callLater(settle_s, begin_window)
reactor.run(installSignalHandlers=False)

import twisted  # noqa: E402

wall_ms = window["wall"] * 1000
emit(
    {
        "bench": "scale",
        "subject": "Twisted LoopingCall",
        "impl": f"Twisted {twisted.__version__} {type(reactor).__name__}, Python {sys.version.split()[0]}",
        "count": count,
        "unit": unit,
        "seed": seed,
        "checksum": checksum(intervals, phases_ms),
        "kept": len(loops),
        "setupMs": setup_ms,
        "rssPerSchedule": (rss_after - rss_before) / count,
        "heapPerSchedule": None,
        "rssMB": rss_after / 2**20,
        "windowMs": wall_ms,
        "cpuPct": 100 * window["cpu"] * 1000 / wall_ms,
        "sysPct": 100 * window["sys"] * 1000 / wall_ms,
        "fires": window["fires"],
        "firesPerS": window["fires"] * 1000 / wall_ms,
        "cpuUsPerFire": window["cpu"] * 1e6 / window["fires"] if window["fires"] else None,
        "wakes": window["wakes"],
        "wakesPerS": window["wakes"] * 1000 / wall_ms,
        "cpuUsPerWake": window["cpu"] * 1e6 / window["wakes"] if window["wakes"] > 0 else None,
    }
)
