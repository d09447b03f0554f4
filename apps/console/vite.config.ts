import { defineConfig } from 'vite';

// Served by the API under /console/; JSX compiled by esbuild for Preact (no Babel plugin needed).
export default defineConfig({
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
});
