import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Component tests: jsdom, files next to the code they test (src/**/*.test.ts[x]).
export default defineConfig({
  plugins: [react()],
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    setupFiles: ["src/testSetup.ts"],
    testTimeout: 20000,
    // One fixed time zone with daylight saving, so date-time conversions are
    // tested against real offsets whatever the machine's zone.
    env: { TZ: "Europe/Paris" },
  },
});
