import { describe, expect, it } from "vitest";
import { ReadBufferBound, readBufferBound } from "../../src/runner/read-buffers.js";

const MiB = 1024 * 1024;

describe("ReadBufferBound", () => {
  it("collects once every 2 MiB read, however the reads are cut, so dead read buffers never hold more", () => {
    const heap = { dead: 0, most: 0, collections: 0 };
    const bound = new ReadBufferBound(() => {
      heap.collections++;
      heap.dead = 0;
    });
    const sizes = [65536, 1, 4096, 65535, 300, 8192];
    for (let i = 0; i < 6000; i++) {
      const bytes = sizes[i % sizes.length]!;
      heap.dead += bytes;
      heap.most = Math.max(heap.most, heap.dead);
      bound.read(bytes);
    }
    const read = 1000 * sizes.reduce((a, b) => a + b, 0);
    // The bytes past 2 MiB in the read that reached it start no new count: between read/(2 MiB + 64 KiB) and read/2 MiB.
    expect(heap.collections).toBeGreaterThanOrEqual(Math.floor(read / (2 * MiB + 65536)));
    expect(heap.collections).toBeLessThanOrEqual(Math.floor(read / (2 * MiB)));
    expect(heap.most).toBeLessThan(2 * MiB + 65536);
  });

  it("does nothing for output that comes in now and then", () => {
    let collections = 0;
    const bound = new ReadBufferBound(() => collections++);
    for (let i = 0; i < 1000; i++) bound.read(100);
    expect(collections).toBe(0);
  });

  it("reaches V8's collector in this runtime (else floods would hold their read buffers until V8 collects)", () => {
    expect(readBufferBound()).toBeInstanceOf(ReadBufferBound);
  });
});
