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
  private readonly entries = new Map<string, Entry>();
  private readonly lineStarts: number[] = [0];
  /** js-yaml drops a byte-order mark before reading: its offsets are one short of the text's. */
  private readonly shift: number;

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

  /** The reading's events, until the first position is asked for and they are indexed. */
  private root: Frame | undefined;

  private indexed(): Map<string, Entry> {
    if (this.root) {
      const { text } = this;
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.lineStarts.push(i + 1);
      // A file of comments only gives no document event at all.
      const document = this.root.children[0] ?? {
        openAt: 0,
        closeAt: 0,
        kind: null,
        result: null,
        children: [],
      };
      this.root = undefined;
      this.index(document, "", undefined);
    }
    return this.entries;
  }

  /** Where `path` points, as the careful reading's positionOf says it (1-based line and column). */
  positionOf(
    path: readonly (string | number)[],
    mode: "value" | "key" = "value",
  ): { line: number; col: number } {
    for (let n = path.length; n >= 0; n--) {
      const entry = this.indexed().get(path.slice(0, n).map(String).join("\u0000"));
      if (!entry) continue;
      // An empty value (`key:` and nothing) has no text of its own: point at its key.
      const wantKey = mode === "key" || n < path.length || entry.empty;
      if (wantKey && entry.keyAt !== undefined) return this.lineCol(entry.keyAt);
      return this.lineCol(entry.valueAt);
    }
    return { line: 1, col: 1 };
  }

  private index(node: Frame, path: string, keyAt: number | undefined): void {
    let frame = node;
    // js-yaml reads some nodes twice over (a document's root, a flow collection in a block sequence): the
    // outer event then holds the inner one alone, with the same result.
    while (frame.children.length === 1 && frame.children[0]!.result === frame.result)
      frame = frame.children[0]!;
    const valueAt = this.skipBlank(frame.openAt);
    if (this.entries.has(path)) return;
    const empty = frame.result == null && valueAt - this.shift >= frame.closeAt;
    if (path === "" && empty) {
      // An empty document has no node: the careful reading points just past its `---`, or at the file's start.
      const markerAt = this.skipBlank(-this.shift);
      if (!this.text.startsWith("---", markerAt)) return;
      let at = markerAt + 3;
      while (this.text[at] === " " || this.text[at] === "\t") at++;
      this.entries.set(path, { valueAt: at, empty: false });
      return;
    }
    this.entries.set(path, { keyAt, valueAt: path === "" ? this.contentAt(valueAt) : valueAt, empty });
    const prefix = path === "" ? "" : `${path}\u0000`;
    if (frame.kind === "mapping") {
      const { children } = frame;
      for (let i = 0; i + 1 < children.length; i += 2) {
        const key = children[i]!;
        this.index(children[i + 1]!, prefix + String(key.result), this.skipBlank(key.openAt));
      }
    } else if (frame.kind === "sequence") {
      frame.children.forEach((item, i) => {
        this.index(item, prefix + String(i), undefined);
      });
    }
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
