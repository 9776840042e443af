// Reading a schedule file: the quick way (quick-read.ts, js-yaml) when it can, the careful way (positions.ts,
// the yaml package) for what js-yaml refuses, which says where and why.
import type { ScheduleProblem } from "../errors.js";
import {
  parseScheduleText,
  plainValueProblem,
  positionOf,
  type ScheduleSource,
  toPlainValue,
} from "./positions.js";
import { QuickPositions, quickValue } from "./quick-read.js";

/** A schedule file's data, with the positions of its keys and values found only when asked for. */
export interface ScheduleData {
  readonly file: string;
  readonly value: unknown;
  /** Where a path points (`file`'s line and column), worked out on first use. */
  positionOf(path: readonly (string | number)[], mode?: "value" | "key"): { line: number; col: number };
}

/**
 * Reads YAML text into data, or the problems that keep it from being read. Positions cost a tenth of a
 * second per 100 kB with the `yaml` package, ten times what plain parsing costs, and a valid file
 * needs none: so a file without anchors or merge keys is read by js-yaml (same YAML 1.2 core schema),
 * and to point at a problem or a warning in it, js-yaml notes where each node starts (quick-read.ts): in
 * the same pass with `positions` (the caller will want them: warnings), else in one more pass when asked.
 * Anything js-yaml refuses takes the careful path, which says where and why.
 */
export function readScheduleText(
  text: string,
  file: string,
  options: { readonly positions?: boolean } = {},
): { data?: ScheduleData; problems: ScheduleProblem[] } {
  let located: ScheduleSource | undefined;
  const data = (value: unknown): ScheduleData => ({
    file,
    value,
    positionOf: (path, mode) => {
      located ??= parseScheduleText(text, file).source;
      return positionOf(located, path, mode);
    },
  });
  const quick = quickValue(text, options.positions === true);
  if (quick.ok) {
    // Positions of a file js-yaml read come from js-yaml too: warnings must not cost the positioned document.
    let positions = quick.positions;
    const value = quick.value;
    return {
      data: {
        file,
        value,
        positionOf: (path, mode) => {
          positions ??= new QuickPositions(text);
          return positions.positionOf(path, mode);
        },
      },
      problems: [],
    };
  }
  const { source, problems } = parseScheduleText(text, file);
  located = source;
  if (problems.length > 0) return { problems };
  try {
    return { data: data(toPlainValue(source)), problems: [] };
  } catch (error) {
    return { problems: [plainValueProblem(source, error)] };
  }
}
