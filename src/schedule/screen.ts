// The bomb screen: one linear pass over a schedule file's text that refuses what would make the YAML parser
// spend unbounded time or memory, before it sees the text. The limits are those of limits.ts.
import { ScheduleFileError } from "../errors.js";
import { ALIAS_HINT, DEPTH_HINT, MAX_ALIASES, MAX_DEPTH } from "./limits.js";

/**
 * Refuses YAML bombs in one linear pass over the text, before the parser (which spends time and memory on
 * every node) sees them: runaway flow nesting, and more alias references than the expansion limit allows.
 * Quoted text and comments are skipped; brackets and stars inside plain or block scalars are counted, which
 * can only make a pathological file fail here rather than in the parser.
 */
export function screenScheduleText(text: string, file: string): void {
  let depth = 0;
  let aliases = 0;
  let line = 1;
  let lineStart = 0;
  let quote = "";
  let comment = false;
  // The last character that was not blank: an alias can only start a value (after `:`, `-`, `?`, `[`, `,`, `{`
  // or at the start of a line); a `*` inside a plain scalar such as `0 */2 * * *` is text.
  let last = 10;
  const refuse = (at: number, message: string, hint: string): never => {
    throw ScheduleFileError.at({ file, line, col: at - lineStart + 1, path: "", message, hint });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
      comment = false;
      last = 10;
      continue;
    }
    if (comment) continue;
    if (quote !== "") {
      if (quote === '"' && c === 92)
        i++; // a backslash escape inside double quotes
      else if (text[i] === quote) quote = "";
      continue;
    }
    const startsValue = last === 10 || last === 58 || last === 45 || last === 63 || isFlowChar(last);
    if (c !== 32 && c !== 9 && c !== 13) last = c;
    const before = i === 0 ? 32 : text.charCodeAt(i - 1);
    const atTokenStart =
      before === 32 || before === 9 || before === 10 || before === 13 || isFlowChar(before);
    switch (c) {
      case 35: // #
        if (atTokenStart) comment = true;
        break;
      case 34: // "
      case 39: // '
        if (atTokenStart || before === 58) quote = text[i]!;
        break;
      case 91: // [
      case 123: // {
        if (++depth > MAX_DEPTH)
          refuse(i, `the data is nested more than ${MAX_DEPTH} levels deep`, DEPTH_HINT);
        break;
      case 93: // ]
      case 125: // }
        if (depth > 0) depth--;
        break;
      case 42: // *
        if (
          atTokenStart &&
          startsValue &&
          i + 1 < text.length &&
          !/[\s,[\]{}]/.test(text[i + 1]!) &&
          ++aliases > MAX_ALIASES
        )
          refuse(i, `more than ${MAX_ALIASES} aliases (*name)`, ALIAS_HINT);
        break;
    }
  }
}

/** `,`, `[`, `]`, `{`, `}` and `:` end or start a token in flow style. */
function isFlowChar(c: number): boolean {
  return c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === 58;
}
