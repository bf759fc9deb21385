// Builds the web UI into dist/web, which every API server serves at `/` (src/api/web-ui.ts).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * The ledger's own modules run in the browser (the receipt checks, `silkledger/receipt`), with
 * their two platform modules and node:crypto swapped for browser twins of the same functions
 * (web/src/platform/). Everything else of them is the code the server runs.
 */
const BROWSER_TWINS: Readonly<Record<string, string>> = {
  [here('../dist/crypto/hash.js')]: here('src/platform/hash.ts'),
  [here('../dist/crypto/p256.js')]: here('src/platform/p256.ts'),
};

function browserPlatform(): Plugin {
  return {
    name: 'silkledger-browser-platform',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === 'node:crypto') return here('src/platform/node-crypto.ts');
      if (importer === undefined || !source.startsWith('.')) return null;
      return BROWSER_TWINS[resolve(dirname(importer), source)] ?? null;
    },
  };
}

export default defineConfig({
  root: here('.'),
  // Absolute asset paths: the page is also served at Digital Link paths such as /01/<gtin>/21/<serial>.
  base: '/',
  plugins: [browserPlatform(), react()],
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
  },
  logLevel: 'warn',
});
