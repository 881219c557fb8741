import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build is served by the SixBTC API at "/" (no CDN, no external request at run time).
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  server: { proxy: { "/api": { target: "http://127.0.0.1:8080", ws: true } } },
});
