import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

const OUT_DIR = "../collabadmin/static";

// Every asset is also written gzip- and brotli-compressed beside itself, at the
// highest levels (once, at build time), so the server sends the smaller file to
// a browser that accepts it without compressing anything per request. Node's
// encoders put no timestamp in their output: the same sources give the same files.
function precompress(): Plugin {
  return {
    name: "collabadmin-precompress",
    apply: "build",
    closeBundle() {
      const dir = join(OUT_DIR, "assets");
      for (const name of readdirSync(dir)) {
        if (!/\.(js|css|svg|json)$/.test(name)) continue;
        const raw = readFileSync(join(dir, name));
        writeFileSync(join(dir, `${name}.gz`), gzipSync(raw, { level: 9 }));
        writeFileSync(
          join(dir, `${name}.br`),
          brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

// The production build is committed under collabadmin/static so that running
// collabadmin needs no Node; `npm run dev` proxies the API to a local server.
export default defineConfig({
  plugins: [react(), precompress()],
  build: {
    outDir: OUT_DIR,
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
