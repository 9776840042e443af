// Loaded with `node --import`: appends the URL of every module the process loads to the file named
// by TRACE_IMPORTS_TO, so a test can see what a command loads.
import { register } from "node:module";

register("./trace-imports-hooks.mjs", import.meta.url);
