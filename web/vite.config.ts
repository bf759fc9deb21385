// Builds the web UI into dist/web, which every API server serves at `/` (src/api/web-ui.ts).
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Absolute asset paths: the page is also served at Digital Link paths such as /01/<gtin>/21/<serial>.
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
  },
  logLevel: 'warn',
});
