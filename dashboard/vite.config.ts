/**
 * Builds the dashboard (dashboard/) into dist/dashboard/: hashed assets under
 * assets/, each also written gzipped beside itself (`.gz`) so that the
 * service sends them compressed without compressing on each request.
 */
import { defineConfig, type Plugin } from 'vite';
import { gzipSync, constants } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = fileURLToPath(new URL('.', import.meta.url));

/** precompress adds `<file>.gz` beside every emitted text file (best compression: done once, at build). */
function precompress(): Plugin {
  return {
    name: 'cratesync-precompress',
    apply: 'build',
    // After writing, so that index.html (emitted by Vite's own HTML step) is there too.
    writeBundle(options, bundle) {
      const dir = options.dir ?? '';
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|html|svg|json)$/.test(name)) continue;
        const file = join(dir, name);
        writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: constants.Z_BEST_COMPRESSION }));
      }
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  // Preact's automatic JSX runtime through Vite's own transform (oxc): no framework plugin needed.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // One small script and one stylesheet: nothing to gain from splitting.
    modulePreload: false,
    reportCompressedSize: true,
  },
  plugins: [precompress()],
});
