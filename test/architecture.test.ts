// The module rules of the README's "How it works", checked on every file under src/ (new folders
// included), so that the layering stays true as the code grows.
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { describe, expect, it } from "vitest";

const srcDir = join(import.meta.dirname, "..", "src");

/** What each part of src/ may import of ours; a part is a top folder, or a file directly in src/. */
const mayImport: Record<string, readonly string[]> = {
  cli: ["*"],
  index: ["*"],
  ops: ["scheduler", "ledger", "log/events", "log/output-lines", "clock", "schedule/types"],
  scheduler: ["clock", "schedule", "ledger", "log/events"],
  runner: ["clock", "log/events", "log/output-lines", "v8-gc"],
  ledger: ["schedule/types", "errors"],
  schedule: ["errors"],
  clock: [],
  log: [],
  errors: [],
  "v8-gc": [],
};

/** What a part may import for its types only (`import type`, erased at run time), beyond mayImport. */
const mayImportTypes: Record<string, readonly string[]> = {
  // A run's retry policy is the schedule's RetrySpec: one type for one idea, no code of the schedule in the runner.
  runner: ["schedule/types"],
};

/** Outside dependencies and where they may be imported: `one module in` a folder, or exactly `only` these files. */
const outsideRules: Record<string, { readonly oneModuleIn?: string; readonly only?: readonly string[] }> = {
  "cron-parser": { only: ["schedule/cron.ts"] },
  cronstrue: { only: ["schedule/cron-words.ts"] },
  yaml: { oneModuleIn: "schedule" },
  "js-yaml": { oneModuleIn: "schedule" },
  chalk: { only: ["log/format-pretty.ts"] },
  "better-sqlite3": { oneModuleIn: "ledger" },
  pg: { oneModuleIn: "ledger" },
  "prom-client": { oneModuleIn: "ops" },
  "node-unix-socket": { only: ["ops/sd-notify.ts"] },
  child_process: { only: ["runner/node-spawner.ts"] },
  timers: { only: ["clock/reactor.ts"] },
  "timers/promises": { only: ["clock/reactor.ts"] },
  commander: { oneModuleIn: "cli*" },
  cosmiconfig: { oneModuleIn: "cli*" },
};

/** Text uses that belong to one place: timers to the reactor; argv, exit and signals to the CLI. */
const placeRules: readonly { readonly what: string; readonly pattern: RegExp; readonly allowedIn: string }[] =
  [
    {
      what: "a Node timer",
      pattern: /(?<![.\w$])(?:set|clear)(?:Timeout|Interval|Immediate)\s*\(/,
      allowedIn: "clock/reactor.ts",
    },
    {
      what: "process argv, exit or signals",
      pattern: /\bprocess\s*\.\s*(?:argv|exit|exitCode|on|once|addListener)\b/,
      allowedIn: "cli/",
    },
  ];

interface ImportRef {
  readonly specifier: string;
  readonly line: number;
  /** `import type … from` or `export type … from`: nothing of it is left at run time. */
  readonly typeOnly: boolean;
}

/** Every `import … from`, `export … from`, `import "x"` and `import("x")` of a TypeScript source. */
function importsOf(source: string): { refs: ImportRef[]; dynamicWithoutLiteral: number[] } {
  const refs: ImportRef[] = [];
  const lineAt = (index: number) => source.slice(0, index).split("\n").length;
  const patterns = [
    // the clause may span lines but holds no `;`, quotes, parentheses or `=`, so it never runs past one statement
    /^[ \t]*(?:import|export)\b[^;"'`()=]*?\bfrom\s*["']([^"']+)["']/gm,
    /^[ \t]*import\s*["']([^"']+)["']/gm,
    /(?<![.\w$])import\s*\(\s*["']([^"']+)["']\s*[,)]/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const typeOnly = /^\s*(?:import|export)\s+type\b/.test(match[0]);
      refs.push({ specifier: match[1]!, line: lineAt(match.index!), typeOnly });
    }
  }
  const dynamicWithoutLiteral = [...source.matchAll(/(?<![.\w$])import\s*\(\s*(?!["'])/g)].map((m) =>
    lineAt(m.index!),
  );
  return { refs, dynamicWithoutLiteral };
}

/** `cli/main.ts` → `cli`; `errors.ts` → `errors`. */
function partOf(file: string): string {
  const slash = file.indexOf("/");
  return slash === -1 ? file.replace(/\.ts$/, "") : file.slice(0, slash);
}

/** The package an outside specifier names: `node:timers/promises` → `timers/promises`, `@a/b/c` → `@a/b`. */
function outsideName(specifier: string): string {
  const bare = specifier.replace(/^node:/, "");
  if (bare === "timers/promises") return bare;
  const parts = bare.split("/");
  return bare.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

interface SourceFile {
  /** Path relative to src/, with forward slashes. */
  readonly file: string;
  readonly text: string;
}

/** Every broken rule, one readable line each; empty when the code keeps the rules. */
function ruleViolations(files: readonly SourceFile[]): string[] {
  const problems: string[] = [];
  const importersOf = new Map<string, Set<string>>();
  for (const { file, text } of files) {
    const part = partOf(file);
    const allowed = mayImport[part];
    if (allowed === undefined) {
      problems.push(`src/${file}: "${part}" has no import rule yet: add it to mayImport (and to the README)`);
      continue;
    }
    const { refs, dynamicWithoutLiteral } = importsOf(text);
    for (const line of dynamicWithoutLiteral) {
      problems.push(
        `src/${file}:${line}: import() of a computed name cannot be checked; use a string literal`,
      );
    }
    for (const { specifier, line, typeOnly } of refs) {
      if (specifier.startsWith(".")) {
        const target = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.[jt]s$/, "");
        if (target.startsWith("..")) {
          problems.push(`src/${file}:${line}: imports ${specifier}, outside src/`);
          continue;
        }
        if (file.startsWith("cli/commands/") && target.startsWith("cli/commands/")) {
          problems.push(
            `src/${file}:${line}: a command may not import another command (${target}); share through a module in src/cli/`,
          );
          continue;
        }
        const targetPart = partOf(`${target}.ts`);
        const covers = (rule: string) => rule === "*" || target === rule || target.startsWith(`${rule}/`);
        const typesAllowed = mayImportTypes[part] ?? [];
        const ok = targetPart === part || allowed.some(covers) || (typeOnly && typesAllowed.some(covers));
        if (!ok) {
          const may = allowed.length ? allowed.join(", ") : "nothing of ours";
          const types = typesAllowed.length ? ` (and the types of ${typesAllowed.join(", ")})` : "";
          problems.push(`src/${file}:${line}: ${part} may import ${may}${types}, not ${target}`);
        }
      } else {
        const name = outsideName(specifier);
        if (!importersOf.has(name)) importersOf.set(name, new Set());
        importersOf.get(name)!.add(file);
      }
    }
    for (const rule of placeRules) {
      if (file === rule.allowedIn || (rule.allowedIn.endsWith("/") && file.startsWith(rule.allowedIn)))
        continue;
      text.split("\n").forEach((lineText, index) => {
        if (/^\s*(?:\/\/|\*|\/\*)/.test(lineText)) return;
        if (rule.pattern.test(lineText)) {
          problems.push(`src/${file}:${index + 1}: ${rule.what} belongs in src/${rule.allowedIn} only`);
        }
      });
    }
  }
  for (const [name, rule] of Object.entries(outsideRules)) {
    const importers = [...(importersOf.get(name) ?? [])].sort();
    if (rule.only) {
      const strays = importers.filter((file) => !rule.only!.includes(file));
      if (strays.length)
        problems.push(`${name} may be imported only by ${rule.only.join(", ")}, not ${strays}`);
    }
    if (rule.oneModuleIn) {
      const folder = rule.oneModuleIn.replace(/\*$/, "");
      const strays = importers.filter((file) => !file.startsWith(`${folder}/`));
      if (strays.length) problems.push(`${name} belongs in src/${folder}/, not in ${strays}`);
      if (!rule.oneModuleIn.endsWith("*") && importers.length > 1) {
        problems.push(`${name} has one importer, not ${importers.length}: ${importers.join(", ")}`);
      }
    }
  }
  return problems;
}

function sourceFiles(): SourceFile[] {
  return readdirSync(srcDir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => ({
      file: relative(srcDir, join(srcDir, name)).split("\\").join("/"),
      text: readFileSync(join(srcDir, name), "utf8"),
    }));
}

describe("the module rules", () => {
  it("hold for every file under src/", () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(20);
    expect(ruleViolations(files)).toEqual([]);
  });

  it("see imports written over several lines, type-only imports, re-exports and import()", () => {
    const text = [
      'import type { A } from "./a.js";',
      "import {",
      "  b,",
      "  type C,",
      '} from "../b/c.js";',
      'export { d } from "./d.js";',
      'export * as e from "node:fs";',
      'import "./side-effect.js";',
      'const f = await import("../f/g.js");',
      "export function h() { return 1; }",
      'const text = "from \\"nowhere\\"";',
    ].join("\n");
    expect(
      importsOf(text)
        .refs.map((ref) => ref.specifier)
        .sort(),
    ).toEqual(["../b/c.js", "../f/g.js", "./a.js", "./d.js", "./side-effect.js", "node:fs"].sort());
  });

  it("reject an arrow the rules do not draw, naming the file, the line and what is allowed", () => {
    const files = [
      { file: "runner/run.ts", text: '\nimport { readSchedule } from "../schedule/read.js";\n' },
    ];
    expect(ruleViolations(files)).toEqual([
      "src/runner/run.ts:2: runner may import clock, log/events, log/output-lines, v8-gc (and the types of schedule/types), not schedule/read",
    ]);
  });

  it("let the runner import the schedule's types, with `import type` only", () => {
    const files = [
      { file: "runner/a.ts", text: 'import type { RetrySpec } from "../schedule/types.js";' },
      { file: "runner/b.ts", text: 'export type { RetrySpec } from "../schedule/types.js";' },
      { file: "runner/c.ts", text: 'import { NOTIFY_WHEN } from "../schedule/types.js";' },
      { file: "runner/d.ts", text: 'import type { CronSchedule } from "../schedule/cron.js";' },
    ];
    expect(ruleViolations(files)).toEqual([
      "src/runner/c.ts:1: runner may import clock, log/events, log/output-lines, v8-gc (and the types of schedule/types), not schedule/types",
      "src/runner/d.ts:1: runner may import clock, log/events, log/output-lines, v8-gc (and the types of schedule/types), not schedule/cron",
    ]);
  });

  it("reject anything of ours imported by the clock or the log", () => {
    const files = [
      { file: "clock/x.ts", text: 'import { StateError } from "../errors.js";' },
      { file: "log/y.ts", text: 'import { Clock } from "../clock/clock.js";' },
    ];
    expect(ruleViolations(files)).toHaveLength(2);
  });

  it("reject a folder that has no rule yet, so a new part of src/ is placed on purpose", () => {
    expect(ruleViolations([{ file: "web/server.ts", text: "" }])).toEqual([
      'src/web/server.ts: "web" has no import rule yet: add it to mayImport (and to the README)',
    ]);
  });

  it("reject a second importer of an outside dependency, and child_process outside the spawner", () => {
    const files = [
      { file: "schedule/cron.ts", text: 'import { CronExpressionParser } from "cron-parser";' },
      { file: "scheduler/s.ts", text: 'import cron from "cron-parser";' },
      { file: "runner/run-job.ts", text: 'import { spawn } from "node:child_process";' },
      { file: "ledger/a.ts", text: 'import Database from "better-sqlite3";' },
      { file: "ledger/b.ts", text: 'import Database from "better-sqlite3";' },
    ];
    expect(ruleViolations(files)).toEqual([
      "cron-parser may be imported only by schedule/cron.ts, not scheduler/s.ts",
      "better-sqlite3 has one importer, not 2: ledger/a.ts, ledger/b.ts",
      "child_process may be imported only by runner/node-spawner.ts, not runner/run-job.ts",
    ]);
  });

  it("reject a command that imports another command", () => {
    const files = [{ file: "cli/commands/run.ts", text: 'import { exitStatusOf } from "./trigger.js";' }];
    expect(ruleViolations(files)).toEqual([
      "src/cli/commands/run.ts:1: a command may not import another command (cli/commands/trigger); share through a module in src/cli/",
    ]);
  });

  it("reject a Node timer outside the reactor and process signals outside the CLI", () => {
    const files = [
      { file: "scheduler/s.ts", text: "const t = setTimeout(() => {}, 5);\nserver.setTimeout(1000);" },
      { file: "runner/r.ts", text: 'process.on("SIGTERM", stop);' },
    ];
    expect(ruleViolations(files)).toEqual([
      "src/scheduler/s.ts:1: a Node timer belongs in src/clock/reactor.ts only",
      "src/runner/r.ts:1: process argv, exit or signals belongs in src/cli/ only",
    ]);
  });
});
