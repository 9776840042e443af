"""Shared helpers of the Twisted peers; the same seeded draws as bench/lib.mjs."""

import json
import sys

MASK = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & MASK


def mulberry32(seed):
    """The PRNG of bench/lib.mjs, bit for bit (all arithmetic on unsigned 32-bit values)."""
    state = seed & MASK

    def rand():
        nonlocal state
        state = (state + 0x6D2B79F5) & MASK
        a = state
        t = _imul(a ^ (a >> 15), 1 | a)
        t = ((t + _imul(t ^ (t >> 7), 61 | t)) & MASK) ^ t
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    return rand


def late_delays(seed, count, span_ms):
    rand = mulberry32(seed)
    return [int(rand() * span_ms) for _ in range(count)]


def scale_schedules(seed, count):
    rand = mulberry32(seed)
    intervals_s, phases_ms = [], []
    for _ in range(count):
        s = 1 + int(rand() * 60)
        intervals_s.append(s)
        phases_ms.append(int(rand() * s * 100) * 10)
    return intervals_s, phases_ms


def checksum(*lists):
    h = 0
    for lst in lists:
        for x in lst:
            h = (h * 31 + x) & MASK
    return h


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    rank = -(-p * len(sorted_values) // 100)
    return sorted_values[min(len(sorted_values), max(1, int(rank))) - 1]


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            key = arg[2:]
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                args[key] = argv[i + 1]
                i += 1
            else:
                args[key] = True
        i += 1
    return args


def emit(result):
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
