/// <reference types="vitest/config" />
import { constants } from 'node:zlib';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { compression, defineAlgorithm } from 'vite-plugin-compression2';

const THEME = '#0b5d56';

export default defineConfig({
  server: {
    // `npm run dev` talks to a locally running API server (same origin via proxy,
    // so cookies and CSRF behave as in production).
    proxy: {
      '/api': process.env.TONARI_API ?? 'http://127.0.0.1:8000',
    },
    // src/vocab.ts imports the vocabulary the server reads, from the repository's vocab/.
    fs: { allow: ['.', '../vocab'] },
  },
  build: {
    // Modern evergreen browsers only; older phones get a plain ES2020 bundle.
    target: 'es2020',
  },
  plugins: [
    // Precompressed copies beside each text asset (x.js.br, x.js.gz), made once at build time at
    // the highest levels; the server sends one when the browser accepts it (server/web/spa.py).
    compression({
      algorithms: [
        defineAlgorithm('brotliCompress', { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        defineAlgorithm('gzip', { level: 9 }),
      ],
      include: /\.(js|mjs|css|html|svg|json|webmanifest|txt)$/,
      threshold: 1024,
      skipIfLargerOrEqual: true,
    }),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      // main.ts registers the worker itself (production only).
      injectRegister: false,
      // The glob below already picks up public/icons; listing them twice bloats the manifest.
      includeManifestIcons: false,
      injectManifest: {
        // Classic-script output: module workers are not supported everywhere yet.
        rollupFormat: 'iife',
        // .mjs is not in Workbox's default glob; later MapLibre workers ship as .mjs.
        // (manifest.webmanifest is added by the plugin itself.)
        globPatterns: ['**/*.{js,mjs,css,html,png,svg,ico,woff2}'],
      },
      manifest: {
        id: '/',
        name: 'Tonari 隣',
        short_name: 'Tonari',
        description: '地域の見守り・災害時の安否確認',
        lang: 'ja',
        dir: 'ltr',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        theme_color: THEME,
        background_color: '#ffffff',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    restoreMocks: true,
  },
});
