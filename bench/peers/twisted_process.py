"""Log throughput of Twisted's ProcessProtocol: the peer of bench/log-throughput.mjs.

Spawns `cat DATA` with reactor.spawnProcess and writes what outReceived gets to OUT:
  --mode raw    each chunk as it comes (Twisted's bare passthrough)
  --mode lines  each chunk cut into lines (the unfinished tail carried to the next chunk), every line
                written as "<RFC 3339 time> job[run] | line\\n", the time taken once per chunk: the work of
                tdefer's plain format, without its UTF-8 checks or long-line splitting.
Prints the milliseconds from spawnProcess to the file closed after processEnded on stderr (the caller
measures wall time and peak RSS around the whole process).
"""

import sys
import time
from datetime import datetime, timezone

from common import parse_args
from twisted.internet import protocol, reactor

args = parse_args()
data = args["data"]
out_path = args["out"]
mode = args.get("mode", "raw")


class Writer(protocol.ProcessProtocol):
    def __init__(self):
        self.out = open(out_path, "wb")
        self.carry = b""

    def outReceived(self, chunk):
        if mode == "raw":
            self.out.write(chunk)
            return
        lines = (self.carry + chunk).split(b"\n")
        self.carry = lines.pop()
        if lines:
            stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            head = (stamp + " log[run0] | ").encode()
            self.out.write(head + (b"\n" + head).join(lines) + b"\n")

    def processEnded(self, reason):
        if self.carry:
            self.out.write(self.carry + b"\n")
        self.out.close()
        sys.stderr.write("%f\n" % ((time.perf_counter() - started) * 1000.0))
        reactor.stop()


started = time.perf_counter()
reactor.spawnProcess(Writer(), "cat", ["cat", data], env=None)
reactor.run()
