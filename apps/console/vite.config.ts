import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by the gateway's console plugin under /console (packages/plugins/console).
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/admin': 'http://localhost:8080', '/console/api': 'http://localhost:8080', '/readyz': 'http://localhost:8080' } },
});
