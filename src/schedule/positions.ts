// The careful reading of a schedule file: a YAML document (the yaml package) that knows where every key
// and value came from, for messages that say file:line:col. The yaml package is loaded on the first
// parse only: a valid file read for `next` or `run` never needs it (read.ts), and loading it costs more
// start-up time than all of `next`'s own work.
import { createRequire } from "node:module";
import type * as YamlPackage from "yaml";
import type { Document, LineCounter, Node } from "yaml";
import type { ScheduleProblem } from "../errors.js";
import { ALIAS_HINT, DEPTH_HINT, MAX_ALIASES, MAX_DEPTH } from "./limits.js";

const require = createRequire(import.meta.url);
/** The yaml package, set by the first parseScheduleText (every other function here takes its result). */
let Y: typeof YamlPackage;

/** A schedule file parsed into a YAML document that remembers where every key and value came from. */
export interface ScheduleSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

type Path = (string | number)[];

/** Parses YAML text. Syntax errors and duplicate keys come back as problems with their positions. */
export function parseScheduleText(
  text: string,
  file: string,
): { source: ScheduleSource; problems: ScheduleProblem[] } {
  Y ??= require("yaml") as typeof YamlPackage;
  const lineCounter = new Y.LineCounter();
  let doc: Document.Parsed;
  try {
    // Duplicate keys are found in structureProblems: the parser's own check compares every key of a map
    // with every earlier one, which took seconds on a file of 10,000 jobs.
    doc = Y.parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, merge: true });
  } catch {
    // The parser reports what it can as errors; anything it throws (deep recursion) is reported here.
    const empty = new Y.LineCounter();
    return {
      source: { file, doc: Y.parseDocument("", { lineCounter: empty }), lineCounter: empty },
      problems: [
        {
          file,
          line: 1,
          col: 1,
          path: "",
          message: "the file cannot be read as YAML: it is nested too deeply",
          hint: DEPTH_HINT,
        },
      ],
    };
  }
  const source: ScheduleSource = { file, doc, lineCounter };
  const problems: ScheduleProblem[] = [];
  const linesSeen = new Set<number>();
  for (const error of doc.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    // One mistake often confuses the parser for the rest of its line: report the first only.
    if (linesSeen.has(line)) continue;
    linesSeen.add(line);
    const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    problems.push(
      unquotedValueProblem(source, text, line) ??
        yamlProblem(source, error.code, message, error.pos[0], { line, col }),
    );
  }
  problems.push(...duplicateKeyProblems(source, linesSeen));
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  if (problems.length === 0) problems.push(...structureProblems(source));
  return { source, problems };
}

/** `key: value` where the value starts with a character YAML reserves: `*` (alias), `&` (anchor), `@`. */
const RESERVED_START = /^(\s*(?:-\s+)?)([A-Za-z0-9_.-]+):[ \t]+([*&@][^#]*?)\s*(#.*)?$/;

/**
 * The commonest crontab-to-YAML mistake: an unquoted cron expression (`cron: *\/5 * * * *`, `cron: @daily`),
 * which YAML reads as an alias, an anchor or a reserved character. Say so, with the quoted line as the hint.
 */
function unquotedValueProblem(
  source: ScheduleSource,
  text: string,
  line: number,
): ScheduleProblem | undefined {
  const start = source.lineCounter.lineStarts[line - 1];
  if (start === undefined) return undefined;
  const end = text.indexOf("\n", start);
  const lineText = text.slice(start, end === -1 ? undefined : end).replace(/\r$/, "");
  const match = RESERVED_START.exec(lineText);
  if (!match) return undefined;
  const [, indent = "", key = "", value = ""] = match;
  const what = key === "cron" ? "this cron expression" : `this \`${key}\` value`;
  const meaning =
    value[0] === "*"
      ? "the start of an alias (`*name`)"
      : value[0] === "&"
        ? "the start of an anchor (`&name`)"
        : "a reserved character";
  return {
    file: source.file,
    line,
    col: lineText.indexOf(value, indent.length + key.length + 1) + 1,
    path: "",
    message: `${what} starts with \`${value[0]}\`, which YAML reads as ${meaning}: quote it`,
    hint: `${indent}${key}: ${JSON.stringify(value)}`.trim(),
  };
}

function yamlProblem(
  source: ScheduleSource,
  code: string,
  message: string,
  offset: number,
  at: { line: number; col: number },
): ScheduleProblem {
  const { file } = source;
  if (code === "DUPLICATE_KEY") {
    const found = findKey(source.doc.contents, offset, []);
    if (found) {
      const [path, first] = found;
      const key = String(path[path.length - 1]);
      const firstLine = first ? source.lineCounter.linePos(first).line : undefined;
      const isJob = path.length === 2 && path[0] === "jobs";
      return {
        file,
        ...at,
        path: path.join("."),
        message: isJob
          ? `the job \`${key}\` is defined twice${firstLine ? ` (first on line ${firstLine})` : ""}`
          : `\`${key}\` appears twice in the same map${firstLine ? ` (first on line ${firstLine})` : ""}`,
        hint: isJob ? "job names must be unique: rename or remove one of the two" : "remove one of the two",
      };
    }
    return {
      file,
      ...at,
      path: "",
      message: "this key appears twice in the same map",
      hint: "remove one of the two",
    };
  }
  if (code === "TAB_AS_INDENT") {
    return { file, ...at, path: "", message: "a tab is used for indentation", hint: "indent with spaces" };
  }
  if (code === "MULTIPLE_DOCS") {
    return {
      file,
      ...at,
      path: "",
      message: "the file holds more than one YAML document (a second `---`)",
      hint: "a schedule is one document: remove the `---` line and put all jobs under one `jobs:`",
    };
  }
  if (code === "RESOURCE_EXHAUSTION" || /call stack/i.test(message)) {
    return {
      file,
      ...at,
      path: "",
      message: "the file cannot be read as YAML: it is nested too deeply",
      hint: DEPTH_HINT,
    };
  }
  if (/^Missing closing .?quote/i.test(message)) {
    const opened = openQuoteBefore(source, offset);
    const where = opened === undefined ? at : source.lineCounter.linePos(opened);
    return {
      file,
      ...where,
      path: "",
      message: "YAML syntax error: this quoted text is never closed",
      hint: "add the closing quote at the end of the value",
    };
  }
  const text = `YAML syntax error: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
  let hint: string | undefined;
  if (/end with a \]/.test(message))
    hint = "close the list with `]`, or write it as a block list with `- ` items";
  else if (/end with a \}/.test(message)) hint = "close the map with `}`, or write it as a block map";
  else if (
    code === "BAD_INDENT" ||
    code === "MISSING_CHAR" ||
    /indent|implicit key|compact mapping/i.test(message)
  ) {
    hint = "check the indentation and the `key: value` form of this line";
  }
  return { file, ...at, path: "", message: text, ...(hint ? { hint } : {}) };
}

/** The start of the quoted scalar that is still open at `offset`. */
function openQuoteBefore(source: ScheduleSource, offset: number): number | undefined {
  let found: number | undefined;
  Y.visit(source.doc, {
    Scalar(_key, node) {
      if ((node.type === Y.Scalar.QUOTE_DOUBLE || node.type === Y.Scalar.QUOTE_SINGLE) && node.range) {
        if (node.range[0] <= offset && node.range[1] >= offset) found = node.range[0];
      }
    },
  });
  return found;
}

/** The path of the map key that starts at `offset`, and where the first key of that name starts. */
function findKey(node: unknown, offset: number, path: Path): [Path, number | undefined] | undefined {
  const stack: [unknown, Path][] = [[node, path]];
  while (stack.length > 0) {
    const [current, at] = stack.pop()!;
    if (Y.isMap(current)) {
      for (const pair of current.items) {
        const key = Y.isScalar(pair.key) ? pair.key : undefined;
        const name = key ? keyName(key.value) : "?";
        if (key?.range && key.range[0] === offset) {
          const first = current.items.find(
            (other) => Y.isScalar(other.key) && keyName(other.key.value) === name,
          );
          const firstStart = first && Y.isScalar(first.key) ? first.key.range?.[0] : undefined;
          return [[...at, name], firstStart === offset ? undefined : firstStart];
        }
        stack.push([pair.value, [...at, name]]);
      }
    } else if (Y.isSeq(current)) {
      current.items.forEach((item, index) => {
        stack.push([item, [...at, index]]);
      });
    }
  }
  return undefined;
}

/** A key that appears twice in one map; checked here in one pass per map (see parseScheduleText). */
function duplicateKeyProblems(source: ScheduleSource, linesSeen: ReadonlySet<number>): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  eachNode(source.doc.contents, (node) => {
    if (!Y.isMap(node)) return;
    const seen = new Set<string>();
    for (const { key } of node.items) {
      if (!Y.isScalar(key) || typeof key.value === "symbol" || !key.range) continue; // `<<` may repeat
      const identity = `${typeof key.value}:${String(key.value)}`;
      const at = source.lineCounter.linePos(key.range[0]);
      if (seen.has(identity) && !linesSeen.has(at.line)) {
        problems.push(yamlProblem(source, "DUPLICATE_KEY", "", key.range[0], at));
      }
      seen.add(identity);
    }
  });
  return problems;
}

/** Calls `fn` on every node of a document, without recursion (the nesting may be deep). */
function eachNode(root: unknown, fn: (node: unknown) => void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    fn(node);
    if (Y.isMap(node)) for (const pair of node.items) stack.push(pair.key, pair.value);
    else if (Y.isSeq(node)) for (const item of node.items) stack.push(item); // a spread of 2M items overflows
  }
}

function keyName(value: unknown): string {
  return typeof value === "symbol" ? "<<" : String(value);
}

/** What the parser lets through but no schedule can have: unknown aliases, bad merges, runaway nesting. */
function structureProblems(source: ScheduleSource): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  const anchors = new Set<string>();
  const push = (node: Node, message: string, hint: string) => {
    const { line, col } = node.range ? source.lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
    problems.push({ file: source.file, line, col, path: "", message, hint });
  };
  // Depth first, in document order, without recursion.
  const stack: { node: unknown; depth: number }[] = [{ node: source.doc.contents, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!Y.isNode(node)) continue;
    if (depth > MAX_DEPTH) {
      push(node, `the data is nested more than ${MAX_DEPTH} levels deep`, DEPTH_HINT);
      return problems;
    }
    if (Y.isAlias(node)) {
      if (!anchors.has(node.source)) {
        push(
          node,
          `unknown alias \`*${node.source}\`: no anchor \`&${node.source}\` comes before it`,
          `define it first, e.g. \`common: &${node.source} { timeout: 5m }\` above this line`,
        );
      }
      continue;
    }
    if (node.anchor) anchors.add(node.anchor);
    if (!Y.isCollection(node)) continue;
    const children: unknown[] = [];
    for (const item of node.items) {
      if (Y.isPair(item)) {
        if (Y.isCollection(item.key)) {
          push(
            item.key,
            `a key must be plain text, not a ${Y.isSeq(item.key) ? "list" : "map"}`,
            "write the key as a name, e.g. `backup:`; a list or map belongs after the `:`",
          );
        }
        if (
          Y.isScalar(item.key) &&
          typeof item.key.value === "symbol" &&
          !isMergeSource(source, item.value)
        ) {
          push(
            Y.isNode(item.value) ? item.value : item.key,
            "`<<` merges a map into this one, but this is not a map",
            "write `<<: *name` where `&name` marks a map",
          );
        }
        children.push(item.key, item.value);
      } else children.push(item);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], depth: depth + 1 });
  }
  return problems;
}

function isMergeSource(source: ScheduleSource, value: unknown): boolean {
  const ok = (item: unknown): boolean =>
    Y.isMap(item) ||
    (Y.isAlias(item) && (item.resolve(source.doc) === undefined || Y.isMap(item.resolve(source.doc))));
  return ok(value) || (Y.isSeq(value) && value.items.every(ok));
}

/** The plain JavaScript value of the document, refusing alias bombs. */
export function toPlainValue(source: ScheduleSource): unknown {
  return source.doc.toJS({ maxAliasCount: MAX_ALIASES });
}

/** Turns an error thrown by toPlainValue into a problem a user can act on. */
export function plainValueProblem(source: ScheduleSource, error: unknown): ScheduleProblem {
  const message = error instanceof Error ? error.message : String(error);
  let firstAlias: Node | undefined;
  Y.visit(source.doc, {
    Alias(_key, node) {
      firstAlias = node;
      return Y.visit.BREAK;
    },
  });
  const { line, col } = firstAlias?.range
    ? source.lineCounter.linePos(firstAlias.range[0])
    : { line: 1, col: 1 };
  if (/alias count/i.test(message)) {
    return {
      file: source.file,
      line,
      col,
      path: "",
      message: `the aliases (\`*name\`) expand to more than ${MAX_ALIASES} values; this looks like an alias bomb`,
      hint: ALIAS_HINT,
    };
  }
  return {
    file: source.file,
    line: 1,
    col: 1,
    path: "",
    message: /call stack|recursion/i.test(message)
      ? "the file cannot be read: it is nested too deeply"
      : `the file cannot be read as data: ${message}`,
  };
}

/** Where a path points: the value's node, or for `key` mode the key itself; missing parts fall back to the nearest parent. */
export function positionOf(
  source: ScheduleSource,
  path: readonly (string | number)[],
  mode: "value" | "key" = "value",
): { line: number; col: number } {
  const index = nodeIndexOf(source);
  for (let n = path.length; n >= 0; n--) {
    const entry = index.get(pathKey(path.slice(0, n)));
    const node = entry?.value;
    // An empty value (`key:` and nothing) has no text of its own: point at its key.
    const empty = Y.isScalar(node) && node.value === null && node.range && node.range[0] === node.range[1];
    const wantKey = mode === "key" || n < path.length || empty;
    if (wantKey && entry?.key?.range) return source.lineCounter.linePos(entry.key.range[0]);
    if (Y.isNode(node) && node.range) return source.lineCounter.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

const pathKey = (path: readonly (string | number)[]): string => path.map(String).join("\u0000");

/** Each path's key and value nodes, built in one walk on the first lookup (a file can have 10,000 warnings). */
const nodeIndexes = new WeakMap<ScheduleSource, Map<string, { key?: Node; value: unknown }>>();

function nodeIndexOf(source: ScheduleSource): Map<string, { key?: Node; value: unknown }> {
  let index = nodeIndexes.get(source);
  if (index) return index;
  index = new Map([["", { value: source.doc.contents }]]);
  const stack: { node: unknown; path: string }[] = [{ node: source.doc.contents, path: "" }];
  const add = (path: string, entry: { key?: Node; value: unknown }) => {
    if (index!.has(path)) return; // a duplicate key: the first one is where the path leads
    index!.set(path, entry);
    stack.push({ node: entry.value, path });
  };
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    const prefix = path === "" ? "" : `${path}\u0000`;
    if (Y.isMap(node)) {
      for (const pair of node.items) {
        if (Y.isScalar(pair.key)) add(prefix + keyName(pair.key.value), { key: pair.key, value: pair.value });
      }
    } else if (Y.isSeq(node)) {
      node.items.forEach((item, i) => {
        add(prefix + String(i), { value: item });
      });
    }
  }
  nodeIndexes.set(source, index);
  return index;
}
