/** Liveness, readiness (storage reachable), the OpenAPI document and the Swagger UI page at /docs. */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { createRoute, type DocumentedHono } from '../openapi.js';
import type { Clock } from '../../service/index.js';
import type { StorageDriver } from '../../storage/index.js';
import type { AppEnv } from '../env.js';
import type { Logger } from '../../log.js';
import { NotFoundError } from '../../errors.js';
import { answerError } from '../errors.js';
import { HealthSchema, ReadySchema } from '../schemas.js';
import { readStaticFile } from '../static-files.js';

/** /ready gives up on a storage ping after this long. */
export const READY_TIMEOUT_MS = 2_000;

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['system'],
  summary: 'Liveness: the process answers',
  responses: { 200: json(HealthSchema, 'Alive') },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['system'],
  summary: 'Readiness: the storage backend answers a ping',
  responses: { 200: json(ReadySchema, 'Storage reachable'), 503: json(ReadySchema, 'Storage unreachable') },
});

async function pingWithin(storage: StorageDriver, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([storage.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SystemRouteDeps {
  storage: StorageDriver;
  clock: Clock;
  log: Logger;
  version: string;
}

export function registerSystemRoutes(app: DocumentedHono<AppEnv>, deps: SystemRouteDeps): void {
  const { storage, clock } = deps;
  const startedMs = clock.nowMs();
  const timestamp = () => new Date(clock.nowMs()).toISOString();

  app.openapi(healthRoute, (c) =>
    c.json({ status: 'ok' as const, uptime_s: Math.max(0, (clock.nowMs() - startedMs) / 1000), timestamp: timestamp() }, 200),
  );

  app.openapi(readyRoute, async (c) => {
    const started = performance.now();
    // The target (host, port) and the error stay in the log: the answer is public.
    const backend = { backend: storage.name };
    try {
      await pingWithin(storage, READY_TIMEOUT_MS);
      const latency_ms = Math.round((performance.now() - started) * 1000) / 1000;
      return c.json({ status: 'ready' as const, storage: { ...backend, ok: true, latency_ms }, timestamp: timestamp() }, 200);
    } catch (error) {
      const requestId = c.get('requestId');
      deps.log.warn({ err: error, backend: storage.name, target: storage.target, request_id: requestId }, 'readiness check failed');
      return c.json(
        {
          status: 'unavailable' as const,
          storage: { ...backend, ok: false },
          message: 'the storage does not answer; the details are in the server log',
          request_id: requestId,
          timestamp: timestamp(),
        },
        503,
      );
    }
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: "A claimed pet's secret (from POST /api/pet/{device_id}/claim) or the admin token. Unclaimed pets need none.",
  });
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'pet-life',
      version: deps.version,
      description:
        'Virtual pets with an inner life that goes on while nobody is looking. Errors: `{"error": {"code", "message"}}`; ' +
        "the compatibility routes (tag `compat`) answer in the original server's envelope `{success, data, timestamp}`. " +
        'Every pet route is rate limited per pet and per client (429 with Retry-After; RateLimit and RateLimit-Policy headers); ' +
        'a claimed pet needs `Authorization: Bearer <secret>` to change; POSTs accept an `Idempotency-Key`.',
    },
    tags: [
      { name: 'pet', description: 'The pet API' },
      { name: 'compat', description: "The original Python server's routes, same behaviour" },
      { name: 'system', description: 'Health and documentation' },
    ],
  });

  registerDocsPage(app);
}

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pet-life API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// A separate file rather than an inline script, so a strict Content-Security-Policy can stay on.
const DOCS_INIT_JS = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

/** Assets of swagger-ui-dist that the page needs; served by the app so /docs works offline. */
const DOCS_ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);

function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

function registerDocsPage(app: DocumentedHono<AppEnv>): void {
  let assetsDir: string | undefined;
  app.get('/docs', (c) => c.html(DOCS_HTML));
  app.get('/docs/init.js', (c) => c.body(DOCS_INIT_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/docs/assets/:file', async (c) => {
    const name = c.req.param('file');
    assetsDir ??= swaggerUiDir();
    const file = DOCS_ASSETS.has(name) ? await readStaticFile(assetsDir, name) : null;
    if (!file) return answerError(c, new NotFoundError(`no documentation asset ${name}`));
    return c.body(file.body, 200, { 'Content-Type': file.contentType, 'Cache-Control': 'public, max-age=86400' });
  });
}
