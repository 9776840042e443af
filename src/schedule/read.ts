// The quick reading of a schedule file; positions.ts is the careful one, used when a place is needed.
import jsYaml from "js-yaml";
import type { ScheduleProblem } from "../errors.js";
import {
  parseScheduleText,
  plainValueProblem,
  positionOf,
  type ScheduleSource,
  toPlainValue,
} from "./positions.js";

/** A schedule file's data, with the positions of its keys and values found only when asked for. */
export interface ScheduleData {
  readonly file: string;
  readonly value: unknown;
  /** Where a path points (`file`'s line and column), from the positioned document parsed on first use. */
  positionOf(path: readonly (string | number)[], mode?: "value" | "key"): { line: number; col: number };
}

/**
 * Reads YAML text into data, or the problems that keep it from being read. Positions cost a tenth of a
 * second per 100 kB with the `yaml` package, ten times what plain parsing costs, and a valid file
 * needs none: so a file without anchors or merge keys is first read by js-yaml (same YAML 1.2 core
 * schema), and the `yaml` document is built only to point at a problem or a warning. Anything js-yaml
 * refuses takes the careful path, which says where and why.
 */
export function readScheduleText(
  text: string,
  file: string,
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
  const quick = quickValue(text);
  if (quick.ok) return { data: data(quick.value), problems: [] };
  const { source, problems } = parseScheduleText(text, file);
  located = source;
  if (problems.length > 0) return { problems };
  try {
    return { data: data(toPlainValue(source)), problems: [] };
  } catch (error) {
    return { problems: [plainValueProblem(source, error)] };
  }
}

/** A line that starts with a flow list or map (`[a]: x`): maybe a key that js-yaml would turn into text. */
const FLOW_AT_LINE_START = /^[ \t]*(?:-[ \t]+)*[[{]/m;

/**
 * js-yaml's reading, where it is sure to agree with the `yaml` package: no anchors, aliases or merges,
 * and no `?` (explicit keys, which may be maps that the two turn into different strings).
 */
function quickValue(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.includes("&") || text.includes("<<") || text.includes("?") || FLOW_AT_LINE_START.test(text))
    return { ok: false };
  try {
    return { ok: true, value: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) };
  } catch {
    return { ok: false }; // a syntax error, a duplicate key, an unknown alias…: the careful path reports it
  }
}
