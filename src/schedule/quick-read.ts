// The quick reading of a schedule file (js-yaml), and positions in a file it accepted: where each key and
// value starts, taken from js-yaml's node events, in the same pass when the caller knows it will want them
// (warnings), else in one more pass when asked. The `yaml` package's positioned document (positions.ts)
// costs ten times as much (a second on a file of 10,000 jobs).
import jsYaml from "js-yaml";

/** Where a path's key and value start (offsets into the text), and whether the value is empty (`key:`). */
interface Entry {
  readonly keyAt?: number;
  readonly valueAt: number;
  readonly empty: boolean;
}

/** One node of js-yaml's event stream: where it starts and ends, what it became, the nodes read inside it. */
interface Frame {
  readonly openAt: number;
  closeAt: number;
  kind: string | null;
  result: unknown;
  readonly children: Frame[];
}

/** Positions by path for a text js-yaml reads without anchors, aliases, merges or explicit keys. */
export class QuickPositions {
  private readonly lineStarts: number[] = [];
  /** js-yaml drops a byte-order mark before reading: its offsets are one short of the text's. */
  private readonly shift: number;
  /** Each mapping's children by key (first one wins), made when a path first goes through it. */
  private readonly keyIndexes = new WeakMap<Frame, Map<string, number>>();

  /** Reads `text` with js-yaml, noting where each node starts: the value and its positions in one pass. */
  static read(text: string): { value: unknown; positions: QuickPositions } {
    const root: Frame = { openAt: 0, closeAt: 0, kind: null, result: undefined, children: [] };
    const stack: Frame[] = [root];
    const value = jsYaml.load(text, {
      schema: jsYaml.CORE_SCHEMA,
      listener: (event, state) => {
        if (event === "open") {
          stack.push({ openAt: state.position, closeAt: 0, kind: null, result: undefined, children: [] });
        } else {
          const frame = stack.pop()!;
          frame.closeAt = state.position;
          frame.kind = state.kind;
          frame.result = state.result;
          stack[stack.length - 1]!.children.push(frame);
        }
      },
    });
    return { value, positions: new QuickPositions(text, root) };
  }

  /** Positions in `text`, which js-yaml is known to read; from `root`, the events of a reading, if given. */
  constructor(
    private readonly text: string,
    root?: Frame,
  ) {
    this.shift = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    this.root = root ?? QuickPositions.read(text).positions.root;
  }

  /** The reading's events: a path is followed through them when its position is asked for. */
  private readonly root: Frame;

  /** Where `path` points, as the careful reading's positionOf says it (1-based line and column). */
  positionOf(
    path: readonly (string | number)[],
    mode: "value" | "key" = "value",
  ): { line: number; col: number } {
    const found = this.follow(path);
    // The deepest part of the path the document has: its key when the path goes on (or the value is empty).
    const n = found.length - 1;
    const entry = found[n];
    if (!entry) return { line: 1, col: 1 };
    // An empty value (`key:` and nothing) has no text of its own: point at its key.
    const wantKey = mode === "key" || n < path.length || entry.empty;
    return this.lineCol(wantKey && entry.keyAt !== undefined ? entry.keyAt : entry.valueAt);
  }

  /** The entries of `path`'s prefixes that exist in the document: the root's first (none for an empty file). */
  private follow(path: readonly (string | number)[]): Entry[] {
    // A file of comments only gives no document event at all.
    let frame = unwrap(
      this.root.children[0] ?? { openAt: 0, closeAt: 0, kind: null, result: null, children: [] },
    );
    const valueAt = this.skipBlank(frame.openAt);
    if (frame.result == null && valueAt - this.shift >= frame.closeAt) {
      // An empty document has no node: the careful reading points just past its `---`, or at the file's start.
      const markerAt = this.skipBlank(-this.shift);
      if (!this.text.startsWith("---", markerAt)) return [];
      let at = markerAt + 3;
      while (this.text[at] === " " || this.text[at] === "\t") at++;
      return [{ valueAt: at, empty: false }];
    }
    const found: Entry[] = [{ valueAt: this.contentAt(valueAt), empty: false }];
    for (const segment of path) {
      let keyAt: number | undefined;
      let child: Frame | undefined;
      if (frame.kind === "mapping") {
        const at = this.keyIndexOf(frame).get(String(segment));
        if (at === undefined) break;
        keyAt = this.skipBlank(frame.children[at]!.openAt);
        child = frame.children[at + 1];
      } else if (frame.kind === "sequence") {
        const index = Number(segment);
        if (String(index) === String(segment)) child = frame.children[index];
      }
      if (child === undefined) break;
      frame = unwrap(child);
      const childAt = this.skipBlank(frame.openAt);
      found.push({
        keyAt,
        valueAt: childAt,
        empty: frame.result == null && childAt - this.shift >= frame.closeAt,
      });
    }
    return found;
  }

  private keyIndexOf(frame: Frame): Map<string, number> {
    let index = this.keyIndexes.get(frame);
    if (!index) {
      index = new Map();
      for (let i = 0; i + 1 < frame.children.length; i += 2) {
        const key = String(frame.children[i]!.result);
        if (!index.has(key)) index.set(key, i);
      }
      this.keyIndexes.set(frame, index);
    }
    return index;
  }

  /** Where a document's content starts: past its `---` marker, if it has one. */
  private contentAt(at: number): number {
    return this.text.startsWith("---", at) ? this.skipBlank(at + 3 - this.shift) : at;
  }

  /** The first offset at or after `at` that is not a space, tab, line break or comment. */
  private skipBlank(at: number): number {
    const { text } = this;
    let i = at + this.shift;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xfeff) i++;
      else if (c === 0x23 /* # */) {
        const end = text.indexOf("\n", i);
        i = end === -1 ? text.length : end;
      } else return i;
    }
  }

  private lineCol(offset: number): { line: number; col: number } {
    const starts = this.lineStarts;
    if (starts.length === 0) {
      starts.push(0);
      const { text } = this;
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  }
}

/** A line that starts with a flow list or map (`[a]: x`): maybe a key that js-yaml would turn into text. */
const FLOW_AT_LINE_START = /^[ \t]*(?:-[ \t]+)*[[{]/m;

/**
 * js-yaml's reading, where it is sure to agree with the `yaml` package: no anchors, aliases or merges,
 * and no `?` (explicit keys, which may be maps that the two turn into different strings).
 */
export function quickValue(
  text: string,
  withPositions = false,
): { ok: true; value: unknown; positions?: QuickPositions } | { ok: false } {
  if (text.includes("&") || text.includes("<<") || text.includes("?") || FLOW_AT_LINE_START.test(text))
    return { ok: false };
  try {
    if (withPositions) return { ok: true, ...QuickPositions.read(text) };
    return { ok: true, value: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) };
  } catch {
    return { ok: false }; // a syntax error, a duplicate key, an unknown alias…: the careful path reports it
  }
}

/**
 * js-yaml reads some nodes twice over (a document's root, a flow collection in a block sequence): the outer
 * event then holds the inner one alone, with the same result.
 */
function unwrap(node: Frame): Frame {
  let frame = node;
  while (frame.children.length === 1 && frame.children[0]!.result === frame.result)
    frame = frame.children[0]!;
  return frame;
}
