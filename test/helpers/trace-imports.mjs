// Loaded with `node --import`: appends the URL of every module the process loads to the file named
// by TRACE_IMPORTS_TO, so a test can see what a command loads: ES modules through a loader hook, and
// CommonJS ones (a package loaded with createRequire, or required by another) through require itself.
// The first Intl.DateTimeFormat made is recorded too, as `intl:DateTimeFormat`: it brings ICU's date-time
// data and code (~8 MB of RSS).
import { appendFileSync } from "node:fs";
import Module, { register } from "node:module";
import { pathToFileURL } from "node:url";

register("./trace-imports-hooks.mjs", import.meta.url);

const traceFile = process.env.TRACE_IMPORTS_TO;
const load = Module._load;
Module._load = function traced(request, parent, isMain, ...rest) {
  const loaded = load.call(this, request, parent, isMain, ...rest);
  if (traceFile) {
    try {
      const file = Module._resolveFilename(request, parent, isMain);
      if (file.startsWith("/")) appendFileSync(traceFile, `${pathToFileURL(file)}\n`);
    } catch {
      // a built-in module, or one resolved some other way: nothing to record
    }
  }
  return loaded;
};

if (traceFile) {
  let made = false;
  globalThis.Intl.DateTimeFormat = new Proxy(Intl.DateTimeFormat, {
    construct(target, args, newTarget) {
      if (!made) appendFileSync(traceFile, "intl:DateTimeFormat\n");
      made = true;
      return Reflect.construct(target, args, newTarget);
    },
    apply(target, thisArg, args) {
      if (!made) appendFileSync(traceFile, "intl:DateTimeFormat\n");
      made = true;
      return Reflect.apply(target, thisArg, args);
    },
  });
}
