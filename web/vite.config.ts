import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is built into dist/web beside the compiled gateway, which serves it.
// No @preact/preset-vite: JSX is compiled by Vite's own transformer with Preact's runtime.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Nothing inline: the gateway's Content-Security-Policy forbids inline scripts and styles.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
