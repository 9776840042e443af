import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/helpers/fast-check-setup.ts"],
    // e2e tests run the built binary; build first (npm test does it via pretest)
    testTimeout: 20_000,
  },
});
