import fc from "fast-check";

// Property tests explore new random cases on every local run; under CI they replay one fixed seed, so a
// landing never depends on luck. A failure prints its seed and counterexample: add it to `examples`.
if (process.env.CI) fc.configureGlobal({ seed: 20_261_127 });
