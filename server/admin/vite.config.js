// Two pages from one build: the staff page (index.html) and the signage player (screen.html).
// base './' keeps every asset path relative, so the server can mount dist/ under any prefix (/admin).
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      input: {
        admin: resolve(import.meta.dirname, "index.html"),
        screen: resolve(import.meta.dirname, "screen.html"),
      },
    },
  },
});
