import { isMap, isNode, isScalar, LineCounter, type Node, parseDocument, type Document } from "yaml";
import type { ScheduleProblem } from "../errors.js";

/** A schedule file parsed into a YAML document that remembers where every key and value came from. */
export interface ScheduleSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/** Aliases expanded beyond this many nodes are refused (the "billion laughs" bomb). */
const MAX_ALIAS_COUNT = 1000;

/** Parses YAML text. Syntax errors and duplicate keys come back as problems with their positions. */
export function parseScheduleText(
  text: string,
  file: string,
): { source: ScheduleSource; problems: ScheduleProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true });
  const problems = doc.errors.map((error): ScheduleProblem => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    return { file, line, col, path: "", message: yamlMessage(error.code, message), hint: yamlHint(error.code) };
  });
  return { source: { file, doc, lineCounter }, problems };
}

function yamlMessage(code: string, message: string): string {
  if (code === "DUPLICATE_KEY") return "this key appears twice in the same map";
  if (code === "TAB_AS_INDENT") return "a tab is used for indentation";
  return `YAML syntax error: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
}

function yamlHint(code: string): string | undefined {
  if (code === "DUPLICATE_KEY") return "remove one of the two, or rename it";
  if (code === "TAB_AS_INDENT") return "indent with spaces";
  if (code === "BAD_INDENT" || code === "MISSING_CHAR") return "check the indentation and the `key: value` form of this line";
  return undefined;
}

/** The plain JavaScript value of the document, refusing alias bombs. */
export function toPlainValue(source: ScheduleSource): unknown {
  return source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
}

/** Where a path points: the value's node, or for `key` mode the key itself; missing parts fall back to the nearest parent. */
export function positionOf(
  source: ScheduleSource,
  path: readonly (string | number)[],
  mode: "value" | "key" = "value",
): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const prefix = path.slice(0, n);
    const wantKey = mode === "key" || n < path.length;
    if (wantKey && n > 0) {
      const keyNode = keyNodeOf(source, prefix);
      if (keyNode?.range) return source.lineCounter.linePos(keyNode.range[0]);
    }
    const node = n === 0 ? source.doc.contents : source.doc.getIn(prefix, true);
    if (isNode(node) && node.range) return source.lineCounter.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

function keyNodeOf(source: ScheduleSource, path: readonly (string | number)[]): Node | undefined {
  const parent = path.length === 1 ? source.doc.contents : source.doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const name = path[path.length - 1];
  for (const pair of parent.items) {
    if (isScalar(pair.key) && String(pair.key.value) === String(name)) return pair.key;
  }
  return undefined;
}
