#!/usr/bin/env node
// A listener on SIGUSR1 keeps Node from opening its inspector (a debugger any local user could reach) on that
// signal: installed first, before the CLI loads, and never removed. tdefer ignores SIGUSR1.
process.on("SIGUSR1", () => {});
// Thin launcher: the CLI lives in dist/ (built by `npm install` through `prepare`).
import("../dist/cli/main.js")
  .then((cli) => cli.main(process.argv))
  .catch((error) => {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist")) {
      process.stderr.write("tdefer: not built yet; run `npm install` (or `npm run build`) first\n");
      process.exit(70);
    }
    throw error;
  });
