// The quick structure check: the file's data against the JSON Schema that `tdefer schema` generates from the
// zod schema (schema.ts) and that ships in schema/ (a test keeps the two equal). A yes means zod would accept
// the data as it is (the schema transforms nothing); anything else, or any keyword this check does not know,
// is a no, and zod then says what is wrong. So a valid file is read without loading zod.
import { readFileSync } from "node:fs";

/** The part of JSON Schema draft-07 that the generated schema uses. */
type JsonType = "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";

interface JsonSchema {
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly propertyNames?: JsonSchema;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly anyOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

/** Keywords that only describe. Any other keyword not handled below makes the check answer no. */
const ANNOTATIONS = new Set(["$schema", "title", "description"]);
const HANDLED = new Set([
  "type",
  "properties",
  "additionalProperties",
  "propertyNames",
  "required",
  "items",
  "minItems",
  "anyOf",
  "enum",
  "const",
  "pattern",
  "minimum",
  "maximum",
]);

let fileSchema: JsonSchema | undefined;
const patterns = new Map<string, RegExp>();

/** Whether `value` is a schedule file's data in the right shape (the meaning is validate.ts's to check). */
export function hasScheduleShape(value: unknown): value is Record<string, unknown> {
  fileSchema ??= JSON.parse(
    readFileSync(new URL("../../schema/schedule.schema.json", import.meta.url), "utf8"),
  ) as JsonSchema;
  return matches(fileSchema, value);
}

/** Whether `value` matches `schema`; false for a keyword this check does not know. */
export function matches(schema: JsonSchema, value: unknown): boolean {
  for (const key of Object.keys(schema)) if (!HANDLED.has(key) && !ANNOTATIONS.has(key)) return false;
  if (schema.type !== undefined) {
    const types: readonly JsonType[] = typeof schema.type === "string" ? [schema.type] : schema.type;
    if (!types.some((type) => hasType(type, value))) return false;
  }
  if (schema.const !== undefined && value !== schema.const) return false;
  if (schema.enum !== undefined && !schema.enum.includes(value)) return false;
  if (schema.anyOf !== undefined && !schema.anyOf.some((branch) => matches(branch, value))) return false;
  if (typeof value === "string" && schema.pattern !== undefined && !patternOf(schema.pattern).test(value))
    return false;
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) return false;
    if (schema.maximum !== undefined && value > schema.maximum) return false;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return false;
    if (schema.items !== undefined && !value.every((item) => matches(schema.items!, item))) return false;
  } else if (isMap(value)) {
    for (const key of schema.required ?? []) if (value[key] === undefined) return false;
    for (const [key, item] of Object.entries(value)) {
      if (schema.propertyNames !== undefined && !matches(schema.propertyNames, key)) return false;
      const known = schema.properties?.[key];
      if (known !== undefined) {
        if (item !== undefined && !matches(known, item)) return false;
      } else if (schema.additionalProperties === false) return false;
      else if (typeof schema.additionalProperties === "object" && !matches(schema.additionalProperties, item))
        return false;
    }
  }
  return true;
}

function hasType(type: JsonType, value: unknown): boolean {
  switch (type) {
    case "object":
      return isMap(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    // zod refuses NaN and the infinities that YAML's .nan and .inf give; JSON has none.
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function patternOf(source: string): RegExp {
  let pattern = patterns.get(source);
  if (!pattern) {
    pattern = new RegExp(source); // as schema.ts builds it for zod
    patterns.set(source, pattern);
  }
  return pattern;
}
