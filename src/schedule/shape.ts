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

/** Whether a value matches a schema, the schema's keywords worked out once. */
type Matcher = (value: unknown) => boolean;

let fileMatcher: Matcher | undefined;

/** Whether `value` is a schedule file's data in the right shape (the meaning is validate.ts's to check). */
export function hasScheduleShape(value: unknown): value is Record<string, unknown> {
  fileMatcher ??= compile(
    JSON.parse(
      readFileSync(new URL("../../schema/schedule.schema.json", import.meta.url), "utf8"),
    ) as JsonSchema,
  );
  return fileMatcher(value);
}

const never: Matcher = () => false;

/**
 * The schema as one function, its keywords looked at once rather than at every value (a file of 10,000 jobs
 * is checked against the job's schema 10,000 times); false for a schema with a keyword this check does not know.
 */
function compile(schema: JsonSchema): Matcher {
  for (const key of Object.keys(schema)) if (!HANDLED.has(key) && !ANNOTATIONS.has(key)) return never;
  const checks: Matcher[] = [];
  if (schema.type !== undefined) {
    const types: readonly JsonType[] = typeof schema.type === "string" ? [schema.type] : schema.type;
    checks.push(
      types.length === 1
        ? (value) => hasType(types[0]!, value)
        : (value) => types.some((type) => hasType(type, value)),
    );
  }
  if (schema.const !== undefined) {
    const constant = schema.const;
    checks.push((value) => value === constant);
  }
  if (schema.enum !== undefined) {
    const values = schema.enum;
    checks.push((value) => values.includes(value));
  }
  if (schema.anyOf !== undefined) {
    const branches = schema.anyOf.map(compile);
    checks.push((value) => branches.some((branch) => branch(value)));
  }
  if (schema.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern); // as schema.ts builds it for zod
    checks.push((value) => typeof value !== "string" || pattern.test(value));
  }
  const { minimum, maximum } = schema;
  if (minimum !== undefined || maximum !== undefined) {
    checks.push(
      (value) =>
        typeof value !== "number" ||
        ((minimum === undefined || value >= minimum) && (maximum === undefined || value <= maximum)),
    );
  }
  const { minItems } = schema;
  const items = schema.items && compile(schema.items);
  const required = schema.required ?? [];
  const propertyNames = schema.propertyNames && compile(schema.propertyNames);
  const properties = new Map(
    Object.entries(schema.properties ?? {}).map(([key, known]) => [key, compile(known)]),
  );
  const additional =
    typeof schema.additionalProperties === "object"
      ? compile(schema.additionalProperties)
      : schema.additionalProperties === false
        ? never
        : undefined;
  checks.push((value) => {
    if (Array.isArray(value)) {
      if (minItems !== undefined && value.length < minItems) return false;
      if (items !== undefined) for (const item of value) if (!items(item)) return false;
    } else if (isMap(value)) {
      for (const key of required) if (value[key] === undefined) return false;
      for (const key of Object.keys(value)) {
        if (propertyNames !== undefined && !propertyNames(key)) return false;
        const item = value[key];
        const known = properties.get(key);
        if (known !== undefined) {
          if (item !== undefined && !known(item)) return false;
        } else if (additional !== undefined && !additional(item)) return false;
      }
    }
    return true;
  });
  return (value) => {
    for (const check of checks) if (!check(value)) return false;
    return true;
  };
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
