import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
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

// src/early-entry.ts is an entry of its own, named in index.html before the
// app's script: it starts the first screen's requests (src/early.ts) while
// the app's scripts are still loading. Module scripts run in document order,
// so it always runs first. (Under `npm run dev` it is not there, and the app
// asks for the same things itself, a little later.)
function earlyScript(): Plugin {
  return {
    name: "collabadmin-early-script",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(html, context) {
        const early = Object.values(context.bundle ?? {}).find(
          (output) => output.type === "chunk" && output.isEntry && output.name === "early",
        );
        const app = html.indexOf('<script type="module"');
        if (!early || app < 0) throw new Error("the early script or the app's is missing");
        const tag = `<script type="module" crossorigin src="/${early.fileName}"></script>\n    `;
        return html.slice(0, app) + tag + html.slice(app);
      },
    },
  };
}

// React Router's package.json sends every bundler to its development build
// (remix-run/react-router#14753): the same code with its warnings switched
// on. A production build takes the production files it ships beside them.
const ROUTER = resolve(import.meta.dirname, "node_modules/react-router/dist/production");
const productionRouter = [
  { find: /^react-router$/, replacement: join(ROUTER, "index.mjs") },
  { find: /^react-router\/dom$/, replacement: join(ROUTER, "dom-export.mjs") },
];

// The production build is committed under collabadmin/static so that running
// collabadmin needs no Node; `npm run dev` proxies the API to a local server.
export default defineConfig(({ command }) => ({
  plugins: [react(), earlyScript(), precompress()],
  resolve: { alias: command === "build" ? productionRouter : [] },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    sourcemap: false,
    // Every browser the app supports preloads modules itself.
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: { index: resolve(import.meta.dirname, "index.html"), early: resolve(import.meta.dirname, "src/early-entry.ts") },
      output: {
        // Pages other than the lists and the record page are chunks of their
        // own (React.lazy in App.tsx). The libraries are chunks apart from the
        // app's code, so a new build of the app leaves them cached: React
        // and the router; TanStack Query and the API client.
        codeSplitting: {
          groups: [
            // What the page's first script shares with the app (the list's query): one small chunk.
            { name: "list-query", test: /src[\\/](listState|api[\\/]query)\.ts$/ },
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler|react-router|react-router-dom|cookie|set-cookie-parser)[\\/]/ },
            { name: "vendor", test: /node_modules[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true },
      "/health": "http://127.0.0.1:8000",
      "/schema": "http://127.0.0.1:8000",
    },
  },
}));
