"""Fire lateness of Twisted's reactor.callLater: the peer of bench/fire-lateness.mjs.

Same seed and delays. Twisted schedules on reactor.seconds() (time.time() in Twisted 22.4), so lateness is
measured on that same clock: reactor.seconds() inside the call minus the DelayedCall's getTime().
Prints one JSON line.
"""

import sys
import time

from common import checksum, emit, late_delays, parse_args, percentile
from twisted.internet import reactor

args = parse_args()
count = int(args.get("count", 2000))
span_ms = int(args.get("span", 20000))
seed = int(args.get("seed", 42))
delays = late_delays(seed, count, span_ms)

lateness = [None] * count
handles = [None] * count
fired = 0


def on_fire(i):
    global fired
    lateness[i] = (reactor.seconds() - handles[i].getTime()) * 1000.0
    fired += 1
    if fired == count:
        reactor.stop()


def schedule():
    for i in range(count):
        handles[i] = reactor.callLater(delays[i] / 1000.0, on_fire, i)


cpu_start = time.process_time()
reactor.callWhenRunning(schedule)
reactor.run(installSignalHandlers=False)
cpu_ms = (time.process_time() - cpu_start) * 1000.0

values = sorted(x for x in lateness if x is not None)
early = [x for x in values if x < 0]
emit(
    {
        "bench": "lateness",
        "subject": "Twisted callLater",
        "impl": f"{type(reactor).__module__}.{type(reactor).__name__}, Python {sys.version.split()[0]}",
        "count": count,
        "spanMs": span_ms,
        "seed": seed,
        "checksum": checksum(delays),
        "fired": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": values[-1],
        "min": values[0],
        "early": len(early),
        "earlyPct": 100.0 * len(early) / len(values),
        "worstEarly": -values[0] if early else 0,
        "cpuMs": cpu_ms,
    }
)
