// What a fire does, apart from the job's name: replicas part-way through a reload that renames a job call the same
// fire by two names, and the ledger must still see one fire. A job's work key is a digest of its command and its
// trigger; identical jobs of one file are told apart by their rank among them, in file order.

import { createHash } from "node:crypto";
import type { JobSpec } from "../schedule/types.js";

/** Each job's work key, by job name. */
export function workKeys(jobs: readonly JobSpec[]): Map<string, string> {
  const keys = new Map<string, string>();
  const seen = new Map<string, number>();
  for (const job of jobs) {
    const digest = createHash("sha256")
      .update(JSON.stringify([job.command, job.trigger]))
      .digest("base64url")
      .slice(0, 22);
    const rank = seen.get(digest) ?? 0;
    seen.set(digest, rank + 1);
    keys.set(job.name, `${digest}.${rank}`);
  }
  return keys;
}
