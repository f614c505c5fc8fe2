import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The production build is committed under collabadmin/static so that running
// collabadmin needs no Node; `npm run dev` proxies the API to a local server.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../collabadmin/static",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true },
      "/health": "http://127.0.0.1:8000",
      "/schema": "http://127.0.0.1:8000",
    },
  },
});
