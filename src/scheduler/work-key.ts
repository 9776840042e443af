// What a fire does, apart from the job's name: replicas part-way through a reload that renames a job call the same
// fire by two names, and the ledger must still see one fire. A job's work key is a digest of its command and its
// trigger; identical jobs of one file are told apart by their rank among them, in file order.

import { createHash } from "node:crypto";
import type { JobSpec } from "../schedule/types.js";

/** The work key of a job that is the `rank`-th (from 0) of identical jobs in its file. */
export function workKey(job: JobSpec, rank = 0): string {
  return `${digest(job)}.${rank}`;
}

/**
 * The jobs that repeat the work of an earlier job of the file, with their rank among those twins. The first of
 * each kind (rank 0) is left out: in a file without twins the map is empty, whatever its size.
 */
export function twinRanks(jobs: readonly JobSpec[]): Map<string, number> {
  const seen = new Map<string, number>();
  const ranks = new Map<string, number>();
  for (const job of jobs) {
    const key = digest(job);
    const rank = seen.get(key) ?? 0;
    seen.set(key, rank + 1);
    if (rank > 0) ranks.set(job.name, rank);
  }
  return ranks;
}

function digest(job: JobSpec): string {
  return createHash("sha256")
    .update(JSON.stringify([job.command, job.trigger]))
    .digest("base64url")
    .slice(0, 22);
}
