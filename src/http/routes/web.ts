/**
 * The web page (docs/web.md), built by `npm run build` into dist/web: `/` is its index.html and
 * `/assets/*` its files. Without a build, `/` answers a 404 saying how to make one. The PWA's
 * files live at the root: the service worker must, to control the page's scope.
 */
import type { Context } from 'hono';
import type { DocumentedHono } from '../openapi.js';
import type { AppEnv } from '../env.js';
import { NotFoundError } from '../../errors.js';
import { answerError } from '../errors.js';
import { readStaticFile } from '../static-files.js';

const NOT_BUILT = 'the web page is not built: run `npm run build` (it writes dist/web)';

export function registerWebRoutes(app: DocumentedHono<AppEnv>, webRoot: string): void {
  app.get('/', async (c) => {
    const file = await readStaticFile(webRoot, 'index.html');
    if (!file) return answerError(c, new NotFoundError(NOT_BUILT));
    return c.body(file.body, 200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
  });

  app.get('/assets/*', async (c) => {
    const relative = c.req.path.slice('/'.length);
    const file = await readStaticFile(webRoot, relative);
    if (!file) return answerError(c, new NotFoundError(`no such asset: ${c.req.path}`));
    // Vite names built assets by content hash, so they never change under the same name.
    return c.body(file.body, 200, { 'Content-Type': file.contentType, 'Cache-Control': 'public, max-age=31536000, immutable' });
  });

  // Fixed names that change with a build: revalidated on every use, never cached as immutable.
  const pwaFile = (name: string, contentType?: string) => async (c: Context<AppEnv>) => {
    const file = await readStaticFile(webRoot, name);
    if (!file) return answerError(c, new NotFoundError(`no such file: /${name} (${NOT_BUILT})`));
    return c.body(file.body, 200, { 'Content-Type': contentType ?? file.contentType, 'Cache-Control': 'no-cache' });
  };
  app.get('/sw.js', pwaFile('sw.js', 'text/javascript; charset=utf-8'));
  app.get('/manifest.webmanifest', pwaFile('manifest.webmanifest', 'application/manifest+json'));
  app.get('/icons/:name{[a-z0-9-]+\\.png}', (c) => pwaFile(`icons/${c.req.param('name')}`)(c));
}
