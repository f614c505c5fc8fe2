import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Component tests: jsdom, files next to the code they test (src/**/*.test.ts[x]).
export default defineConfig({
  plugins: [react()],
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
