import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import { keepLease } from "../../src/scheduler/lease.js";
import { settle } from "../helpers/settle.js";

function harness(answers: (() => Promise<boolean>)[], options: { loseUnconfirmed?: boolean } = {}) {
  const clock = new VirtualClock(0);
  const renewals: number[] = [];
  const lost: string[] = [];
  let next = 0;
  const keeper = keepLease({
    clock,
    leaseMs: 30_000,
    renew: () => {
      renewals.push(clock.now());
      return (answers[Math.min(next++, answers.length - 1)] ?? (() => Promise.resolve(true)))();
    },
    onLost: (reason) => lost.push(reason),
    loseUnconfirmed: options.loseUnconfirmed,
  });
  const advance = async (ms: number, stepMs = 1_000) => {
    for (let passed = 0; passed < ms; passed += stepMs) {
      clock.advance(stepMs);
      await settle();
    }
  };
  return { clock, renewals, lost, keeper, advance };
}

const held = () => Promise.resolve(true);
const gone = () => Promise.resolve(false);
const down = () => Promise.reject(new Error("connect ECONNREFUSED"));

describe("a run's lease", () => {
  it("is renewed every third of the lease while the run goes, and no more after stop", async () => {
    const { renewals, lost, keeper, advance } = harness([held]);
    await advance(35_000);
    expect(renewals).toEqual([10_000, 20_000, 30_000]);
    keeper.stop();
    await advance(30_000);
    expect(renewals).toHaveLength(3);
    expect(lost).toEqual([]);
  });

  it("is lost, once, when a renewal finds the claim gone (taken over or marked lost)", async () => {
    const { renewals, lost, advance } = harness([held, gone]);
    await advance(60_000);
    expect(renewals).toEqual([10_000, 20_000]);
    expect(lost).toEqual(["another replica took it over, or it was marked lost"]);
  });

  it("survives a ledger outage shorter than the lease", async () => {
    const { lost, advance } = harness([held, down, held]);
    await advance(60_000);
    expect(lost).toEqual([]);
  });

  it("with a shared ledger, is lost when the ledger has not confirmed it for a whole lease, counted from the last confirmed renewal", async () => {
    const { lost, renewals, advance } = harness([held, down], { loseUnconfirmed: true });
    await advance(39_000);
    expect(lost).toEqual([]);
    await advance(1_000);
    // Confirmed by the renewal sent at 10 s: lost at 40 s, never later.
    expect(renewals.at(-1)).toBe(40_000);
    expect(lost).toEqual(["the ledger did not confirm it for a whole lease (30000 ms)"]);
  });

  it("with a ledger of one machine, is kept through any outage: the run goes ahead", async () => {
    const { lost, renewals, advance } = harness([held, down]);
    await advance(120_000);
    expect(lost).toEqual([]);
    expect(renewals.length).toBeGreaterThan(10);
  });
});
