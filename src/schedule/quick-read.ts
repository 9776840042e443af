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

/**
 * js-yaml's event stream as flat columns, one row per node in the order the nodes open (row 0 stands for the
 * stream, its children are the documents): where it starts and ends, what it became, its first child and next
 * sibling. No object per node: a file of 10,000 jobs has a quarter of a million nodes, and objects made while
 * reading all survive it, which the young generation's collector pays for in copies.
 */
class NodeEvents {
  readonly openAt: number[] = [0];
  readonly closeAt: number[] = [0];
  readonly kind: (string | null)[] = [null];
  readonly result: unknown[] = [undefined];
  /** -1: none. */
  readonly firstChild: number[] = [-1];
  readonly nextSibling: number[] = [-1];

  /** Reads `text` with js-yaml, noting each node as it opens and closes. */
  static read(text: string): { value: unknown; events: NodeEvents } {
    const events = new NodeEvents();
    const { openAt, closeAt, kind, result, firstChild, nextSibling } = events;
    // The open nodes, and the last child seen of each.
    const open: number[] = [0];
    const lastChild: number[] = [-1];
    const value = jsYaml.load(text, {
      schema: jsYaml.CORE_SCHEMA,
      listener: (event, state) => {
        if (event === "open") {
          const node = openAt.length;
          openAt.push(state.position);
          closeAt.push(0);
          kind.push(null);
          result.push(undefined);
          firstChild.push(-1);
          nextSibling.push(-1);
          const top = open.length - 1;
          const previous = lastChild[top]!;
          if (previous === -1) firstChild[open[top]!] = node;
          else nextSibling[previous] = node;
          lastChild[top] = node;
          open.push(node);
          lastChild.push(-1);
        } else {
          const node = open.pop()!;
          lastChild.pop();
          closeAt[node] = state.position;
          kind[node] = state.kind;
          result[node] = state.result;
        }
      },
    });
    return { value, events };
  }
}

/** Positions by path for a text js-yaml reads without anchors, aliases, merges or explicit keys. */
export class QuickPositions {
  private readonly lineStarts: number[] = [];
  /** js-yaml drops a byte-order mark before reading: its offsets are one short of the text's. */
  private readonly shift: number;
  /** The children of the nodes a path went through, in order, made when a path first goes through one. */
  private readonly childLists = new Map<number, number[]>();
  /** Each mapping's children by key (first one wins): the index of the key among its children. */
  private readonly keyIndexes = new Map<number, Map<string, number>>();

  /** Reads `text` with js-yaml, noting where each node starts: the value and its positions in one pass. */
  static read(text: string): { value: unknown; positions: QuickPositions } {
    const { value, events } = NodeEvents.read(text);
    return { value, positions: new QuickPositions(text, events) };
  }

  /** Positions in `text`, which js-yaml is known to read; from `events`, those of a reading, if given. */
  constructor(
    private readonly text: string,
    events?: NodeEvents,
  ) {
    this.shift = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    this.events = events ?? NodeEvents.read(text).events;
  }

  /** The reading's events: a path is followed through them when its position is asked for. */
  private readonly events: NodeEvents;

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
    const { openAt, closeAt, kind, result } = this.events;
    // A file of comments only gives no document event at all.
    const document = this.events.firstChild[0]!;
    let node = document === -1 ? -1 : this.unwrap(document);
    const valueAt = this.skipBlank(node === -1 ? 0 : openAt[node]!);
    if ((node === -1 || result[node] == null) && valueAt - this.shift >= (node === -1 ? 0 : closeAt[node]!)) {
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
      let child: number | undefined;
      if (kind[node] === "mapping") {
        const at = this.keyIndexOf(node).get(String(segment));
        if (at === undefined) break;
        const children = this.childrenOf(node);
        keyAt = this.skipBlank(openAt[children[at]!]!);
        child = children[at + 1];
      } else if (kind[node] === "sequence") {
        const index = Number(segment);
        if (String(index) === String(segment)) child = this.childrenOf(node)[index];
      }
      if (child === undefined) break;
      node = this.unwrap(child);
      const childAt = this.skipBlank(openAt[node]!);
      found.push({
        keyAt,
        valueAt: childAt,
        empty: result[node] == null && childAt - this.shift >= closeAt[node]!,
      });
    }
    return found;
  }

  private childrenOf(node: number): number[] {
    let children = this.childLists.get(node);
    if (!children) {
      children = [];
      const { firstChild, nextSibling } = this.events;
      for (let child = firstChild[node]!; child !== -1; child = nextSibling[child]!) children.push(child);
      this.childLists.set(node, children);
    }
    return children;
  }

  private keyIndexOf(node: number): Map<string, number> {
    let index = this.keyIndexes.get(node);
    if (!index) {
      index = new Map();
      const children = this.childrenOf(node);
      for (let i = 0; i + 1 < children.length; i += 2) {
        const key = String(this.events.result[children[i]!]);
        if (!index.has(key)) index.set(key, i);
      }
      this.keyIndexes.set(node, index);
    }
    return index;
  }

  /**
   * js-yaml reads some nodes twice over (a document's root, a flow collection in a block sequence): the outer
   * event then holds the inner one alone, with the same result.
   */
  private unwrap(node: number): number {
    const { firstChild, nextSibling, result } = this.events;
    let at = node;
    for (;;) {
      const only = firstChild[at]!;
      if (only === -1 || nextSibling[only] !== -1 || result[only] !== result[at]) return at;
      at = only;
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
