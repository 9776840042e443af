import { describe, expect, it } from "vitest";
import { ReadBufferBound, readBufferBound } from "../../src/runner/read-buffers.js";

const MiB = 1024 * 1024;

/** A heap whose dead read buffers pile up as bytes are read, until a collection frees them. */
function pilingHeap(liveBytes: number) {
  const heap = { live: liveBytes, dead: 0, collections: 0 };
  const bound = new ReadBufferBound(
    () => heap.live + heap.dead,
    () => {
      heap.collections++;
      heap.dead = 0;
    },
    MiB,
    8 * MiB,
  );
  const read = (bytes: number) => {
    heap.dead += bytes;
    bound.read(bytes);
  };
  return { heap, read };
}

describe("ReadBufferBound", () => {
  it("collects when the read buffers of a flood pile up past the slack, so they never hold much more", () => {
    const { heap, read } = pilingHeap(3 * MiB);
    let most = 0;
    for (let i = 0; i < 1600; i++) {
      read(64 * 1024);
      most = Math.max(most, heap.dead);
    }
    // 100 MiB read: about one collection per 8-9 MiB, and never more than the slack and one check's worth held.
    expect(heap.collections).toBeGreaterThanOrEqual(10);
    expect(heap.collections).toBeLessThanOrEqual(13);
    expect(most).toBeLessThanOrEqual(9 * MiB);
  });

  it("leaves it to V8 when its own collections keep the buffers down", () => {
    const { heap, read } = pilingHeap(3 * MiB);
    for (let i = 0; i < 1600; i++) {
      read(64 * 1024);
      // A flood of short lines makes garbage on the heap: V8 collects every few MiB by itself.
      if (i % 64 === 63) heap.dead = 0;
    }
    expect(heap.collections).toBe(0);
  });

  it("counts the slack from what is live after a collection, so memory the program keeps does not cause a collection per check", () => {
    const { heap, read } = pilingHeap(3 * MiB);
    for (let i = 0; i < 160; i++) read(64 * 1024);
    expect(heap.collections).toBe(1);
    // The program now keeps 20 MiB more (more jobs, bigger buffers): one collection, then the slack again.
    heap.live += 20 * MiB;
    for (let i = 0; i < 160; i++) read(64 * 1024);
    expect(heap.collections).toBeLessThanOrEqual(3);
    const after = heap.collections;
    for (let i = 0; i < 64; i++) read(64 * 1024);
    expect(heap.collections).toBe(after);
  });

  it("reaches V8's collector in this runtime (else floods would hold their read buffers until V8 collects)", () => {
    expect(readBufferBound()).toBeInstanceOf(ReadBufferBound);
  });
});
