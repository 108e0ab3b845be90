/**
 * Serves the built web app (SPEC §8) at `/`, same origin as `/api`: static files from
 * dist/web, and index.html for client routes (history API), never for the API, the
 * webhooks, health or metrics, whose unknown paths keep answering JSON 404s.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { WEB_DIST_DIR } from './build';

const NOT_CLIENT_ROUTES = /^\/(api|webhooks|healthz|readyz|metrics)(\/|$)/;

export function createWebAppRouter(distDir = WEB_DIST_DIR): Router {
  const router = express.Router();
  const index = path.join(distDir, 'index.html');
  router.use('/assets', express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '1y', index: false, fallthrough: true }));
  router.use(express.static(distDir, { index: false, maxAge: 0 }));
  // A middleware, not a route: the client's routes are not the API's (the OpenAPI test
  // documents every route Express serves).
  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (NOT_CLIENT_ROUTES.test(req.path) || req.path.startsWith('/assets/')) return next();
    if (!existsSync(index)) return next();
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
