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

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest of `candidates` to `word`, if one is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const synonym = SYNONYMS[lower];
  if (synonym && candidates.includes(synonym)) return synonym;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}
