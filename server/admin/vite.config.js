// Two pages from one build: the staff page (index.html) and the signage player (screen.html).
// base './' keeps every asset path relative, so the server can mount dist/ under any prefix (/admin).
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  // Unit tests of the pure modules (geometry, facing, documents, playback) run in Node.
  test: { include: ["test/**/*.test.js"], environment: "node" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    // Leaflet, leaflet-geoman (with its turf and lodash) and polyclip-ts come to ~510 kB minified
    // (~145 kB gzipped), loaded once from the store's own server: splitting would not pay.
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      input: {
        admin: resolve(import.meta.dirname, "index.html"),
        screen: resolve(import.meta.dirname, "screen.html"),
      },
    },
  },
});
