// "Did you mean …?" for misspelt keys and values.

/** Words people bring from other schedulers, and the key tdefer uses instead. */
const SYNONYMS: Readonly<Record<string, string>> = {
  command: "run",
  cmd: "run",
  exec: "run",
  schedule: "cron",
  interval: "every",
  delay: "after",
  tz: "timezone",
  time_zone: "timezone",
  retries: "retry",
  workdir: "cwd",
  working_dir: "cwd",
  directory: "cwd",
  environment: "env",
  disabled: "enabled",
  concurrency: "overlap",
};

/** Edit distance counting a swap of two neighbouring letters as one edit (`TREM` → `TERM`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `word` (ignoring case), if it is at most `maxDistance` edits away. */
export function nearest(
  word: string,
  candidates: readonly string[],
  maxDistance: number,
): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= maxDistance ? best : undefined;
}

/** The closest of `candidates` to `word`, if one is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const synonym = SYNONYMS[word.toLowerCase()];
  if (synonym && candidates.includes(synonym)) return synonym;
  return nearest(word, candidates, Math.max(1, Math.floor(word.length / 3)));
}
