// Module hooks for trace-imports.mjs: they run on the loader's own thread.
import { appendFileSync } from "node:fs";

export async function load(url, context, nextLoad) {
  if (process.env.TRACE_IMPORTS_TO) appendFileSync(process.env.TRACE_IMPORTS_TO, `${url}\n`);
  return nextLoad(url, context);
}
