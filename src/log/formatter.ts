import type { ColorLevel } from "./color-policy.js";
import { formatJson } from "./format-json.js";
import { createPrettyFormatter } from "./format-pretty.js";
import type { LogFormatter } from "./output-lines.js";

/** The --log-format values. */
export type LogFormat = "pretty" | "plain" | "json";

/**
 * The formatter for a --log-format: json never has colour or journal prefixes; plain has colour only when it
 * was asked for explicitly (`colorForced`: FORCE_COLOR or --color).
 */
export function createFormatter(
  format: LogFormat,
  options: {
    colorLevel: ColorLevel;
    colorForced?: boolean;
    journal?: boolean;
    lineTime?: (timeMs: number) => string;
    timeInZone?: (timeMs: number, zone: string) => string;
  },
): LogFormatter {
  if (format === "json") return formatJson;
  const { colorForced, ...pretty } = options;
  return createPrettyFormatter({
    ...pretty,
    colorLevel: format === "plain" && !colorForced ? 0 : options.colorLevel,
  });
}
