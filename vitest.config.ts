import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // e2e tests run the built binary; build first (npm test does it via pretest)
    testTimeout: 20_000,
  },
});
