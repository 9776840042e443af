/** 0: no colour; 1: 16 colours; 2: 256 colours; 3: true colour (chalk's levels). */
export type ColorLevel = 0 | 1 | 2 | 3;

/** Everything the colour decision depends on, passed in so that the decision is a pure function. */
export interface ColorInputs {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether the stream the log goes to is a terminal. */
  readonly isTTY: boolean;
  /** `--no-color` was given. */
  readonly noColorFlag?: boolean;
  /** `--color` was given: colour as FORCE_COLOR=1 would. */
  readonly colorFlag?: boolean;
}

/**
 * How much colour the pretty format may use. In order: `--no-color` and a non-empty NO_COLOR turn it off
 * (chalk ignores NO_COLOR, so this check is ours); FORCE_COLOR decides next ("0"/"false" off, "2"/"3" that
 * level, anything else 16 colours), even when not on a terminal; otherwise only a terminal that is not
 * TERM=dumb gets colour, at the depth COLORTERM/TERM announce.
 */
export function colorLevel({ env, isTTY, noColorFlag = false, colorFlag = false }: ColorInputs): ColorLevel {
  if (noColorFlag || (env.NO_COLOR ?? "") !== "") return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined && !colorFlag) {
    if (force === "0" || force === "false") return 0;
    if (force === "2" || force === "3") return Number(force) as ColorLevel;
    return 1;
  }
  if (colorFlag) return Math.max(1, terminalDepth(env)) as ColorLevel;
  if (!isTTY || env.TERM === "dumb") return 0;
  return terminalDepth(env);
}

/**
 * Colour was asked for explicitly, by FORCE_COLOR or `--color`, and nothing turned it off: then every human
 * format is coloured, plain included (only json never is).
 */
export function colorForced(inputs: ColorInputs): boolean {
  const asked = inputs.colorFlag === true || inputs.env.FORCE_COLOR !== undefined;
  return asked && colorLevel(inputs) > 0;
}

function terminalDepth(env: Readonly<Record<string, string | undefined>>): ColorLevel {
  if (env.COLORTERM === "truecolor" || env.COLORTERM === "24bit") return 3;
  if (env.TERM?.includes("256")) return 2;
  return 1;
}
