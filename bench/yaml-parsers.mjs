// Why the schedule reader has two YAML parsers (README, Decisions): load time of each package, and time to
// read the example and a 10,000-job file as plain data (js-yaml) and as a positioned document (yaml).
// Usage: node bench/yaml-parsers.mjs   (prints one JSON line; run it a few times on a loaded machine)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { benchDir } from "./lib.mjs";

const require = createRequire(import.meta.url);
const t0 = performance.now();
const jsYaml = require("js-yaml");
const t1 = performance.now();
const yaml = require("yaml");
const t2 = performance.now();
const example = readFileSync(join(benchDir, "..", "schedules.example.yaml"), "utf8");
let big = "jobs:\n";
for (let i = 0; i < 10_000; i++)
  big += `  job-${i}:\n    cron: "${i % 60} ${i % 24} * * *"\n    run: echo ${i}\n    timeout: 5m\n`;
const meanMs = (fn, runs) => {
  fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) fn();
  return (performance.now() - start) / runs;
};
const plain = (text) => jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA });
const positioned = (text) =>
  yaml.parseDocument(text, { lineCounter: new yaml.LineCounter(), uniqueKeys: false });
console.log(
  JSON.stringify({
    loadJsYamlMs: +(t1 - t0).toFixed(1),
    loadYamlMs: +(t2 - t1).toFixed(1),
    exampleJsYamlMs: +meanMs(() => plain(example), 50).toFixed(2),
    exampleYamlDocumentMs: +meanMs(() => positioned(example), 50).toFixed(2),
    bigFileKB: Math.round(big.length / 1024),
    bigJsYamlMs: Math.round(meanMs(() => plain(big), 3)),
    bigYamlDocumentMs: Math.round(meanMs(() => positioned(big), 3)),
  }),
);
