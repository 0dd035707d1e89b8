import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRoute, DocumentedHono } from '../../src/http/openapi.js';
import { createTestApp, readJson, type ErrorJson } from './support.js';

interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, unknown>;
  tags?: string[];
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

const ROUTES: Array<[string, string]> = [
  ['get', '/api/pet/{device_id}/state'],
  ['post', '/api/pet/{device_id}/interact'],
  ['post', '/api/pet/{device_id}/catchup'],
  ['post', '/api/pet/{device_id}/reset'],
  ['patch', '/api/pet/{device_id}'],
  ['get', '/api/pet/{device_id}/forecast'],
  ['get', '/api/pet/status'],
  ['post', '/api/pet/interact'],
  ['post', '/api/pet/feed'],
  ['post', '/api/pet/catchup'],
  ['post', '/api/debug/reset'],
  ['get', '/health'],
  ['get', '/ready'],
];

function collectRefs(value: unknown, refs: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) collectRefs(item, refs);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') refs.push(inner);
      else collectRefs(inner, refs);
    }
  }
  return refs;
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3 document describing every route, generated from the validating schemas', async () => {
    const { app } = createTestApp();
    const response = await app.request('/openapi.json');
    expect(response.status).toBe(200);
    const doc = await readJson<OpenApi>(response);
    expect(doc.openapi).toMatch(/^3\.0\.\d$/);
    expect(doc.info.title).toBe('pet-life');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const [method, path] of ROUTES) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(Object.keys(operation?.responses ?? {}), `${method} ${path}`).toContain('200');
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        const param = operation?.parameters?.find((p) => p.in === 'path' && `{${p.name}}` === name);
        expect(param?.required, `${method} ${path} ${name}`).toBe(true);
      }
    }
    // The request schemas are the ones that validate: the action enum and the hours bound.
    const interact = doc.paths['/api/pet/{device_id}/interact']?.['post'];
    expect(JSON.stringify(interact?.requestBody)).toMatch(/InteractRequest/);
    const schemas = doc.components?.schemas ?? {};
    expect(JSON.stringify(schemas['InteractRequest'])).toMatch(/"feed","play","greet"/);
    expect(JSON.stringify(schemas['CatchupRequest'])).toMatch(/87600/);
    // Every $ref resolves.
    for (const ref of collectRefs(doc)) {
      const name = ref.replace('#/components/schemas/', '');
      expect(schemas, ref).toHaveProperty(name);
    }
  });
});

describe('the document, built on its first request (src/http/openapi.ts)', () => {
  it('lists every API route the app serves, with the method it is served on', async () => {
    const { app } = createTestApp();
    const doc = await readJson<OpenApi>(await app.request('/openapi.json'));
    const served = app.routes
      .filter((route) => route.method !== 'ALL' && /^\/(api\/|health$|ready$|metrics$)/.test(route.path))
      .map((route) => `${route.method.toLowerCase()} ${route.path.replaceAll(/:(\w+)/g, '{$1}')}`);
    expect(served.length).toBeGreaterThanOrEqual(ROUTES.length);
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    for (const route of served) expect(documented, route).toContain(route);
  });

  it('is built once per app and answered the same every time', async () => {
    const { app } = createTestApp();
    const first = await (await app.request('/openapi.json')).text();
    const second = await (await app.request('/openapi.json')).text();
    expect(second).toBe(first);
    expect(first.length).toBeGreaterThan(10_000);
  });

  it('names the components the schemas declare (zod metadata ids) and refers to them', async () => {
    const { app } = createTestApp();
    const doc = await readJson<OpenApi>(await app.request('/openapi.json'));
    const names = Object.keys(doc.components?.schemas ?? {});
    for (const name of ['PetState', 'LifeReport', 'Error', 'InteractRequest', 'Forecast', 'Health']) expect(names).toContain(name);
    // The catch-up report is the LifeReport component and two more fields.
    const refs = collectRefs(doc.paths['/api/pet/{device_id}/catchup']).concat(collectRefs(doc.components));
    expect(refs).toContain('#/components/schemas/LifeReport');
  });

  it('documents the batch, owner and social routes with their components (converted to zod metadata)', async () => {
    const { app } = createTestApp();
    const doc = await readJson<OpenApi>(await app.request('/openapi.json'));
    const schemas = doc.components?.schemas ?? {};
    for (const name of ['BatchRequest', 'BatchOperation', 'BatchInteract', 'BatchResponse', 'PetsResponse', 'Owner', 'OwnedPets']) {
      expect(schemas, name).toHaveProperty(name);
    }
    for (const name of ['AdoptRequest', 'PetOwners', 'FriendInvite', 'Friends', 'VisitRequest', 'Visit'])
      expect(schemas, name).toHaveProperty(name);
    expect(JSON.stringify(doc.paths['/api/batch']?.['post']?.requestBody)).toMatch(/BatchRequest/);
    expect(doc.paths['/api/pets']?.['get']?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['ids', 'lang']));
    expect(JSON.stringify(doc.paths['/api/pet/{device_id}/visit']?.['post']?.requestBody)).toMatch(/VisitRequest/);
    const unfriend = doc.paths['/api/pet/{device_id}/friends/{friend_id}']?.['delete'];
    expect(unfriend?.parameters?.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(['device_id', 'friend_id']);
    // An extended component is its base by reference and the added fields (allOf).
    expect(JSON.stringify(schemas['Friend'])).toMatch(/^\{"allOf":\[\{"\$ref":"#\/components\/schemas\/PetSummary"\}/);
    expect(JSON.stringify(schemas['PetsResult'])).toMatch(/^\{"allOf":\[\{"\$ref":"#\/components\/schemas\/BatchResult"\}/);
  });

  it('refuses to serve a route with input outside servePetRoute (it would go unchecked)', () => {
    const app = new DocumentedHono();
    const route = createRoute({
      method: 'get',
      path: '/x/{id}',
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: { description: 'ok' } },
    });
    expect(() => app.openapi(route, (c) => c.text('x'))).toThrow(/servePetRoute/);
  });
});

describe('GET /docs', () => {
  it('renders Swagger UI from assets served by the app itself (works offline)', async () => {
    const { app } = createTestApp();
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//); // nothing from the network
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(assets).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui.css', '/docs/assets/swagger-ui-bundle.js', '/docs/init.js']));
    for (const asset of assets) {
      const response = await app.request(asset);
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
    const init = await (await app.request('/docs/init.js')).text();
    expect(init).toMatch(/\/openapi\.json/);
    expect((await app.request('/docs/assets/swagger-ui-bundle.js')).headers.get('content-type')).toMatch(/javascript/);
  });

  it('serves only the listed Swagger UI files', async () => {
    const { app } = createTestApp();
    for (const path of ['/docs/assets/package.json', '/docs/assets/..%2Fpackage.json', '/docs/assets/index.html']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect((await readJson<ErrorJson>(response)).error.code).toBe('not_found');
    }
  });
});

describe('the web page (dist/web)', () => {
  const root = mkdtempSync(join(tmpdir(), 'pet-life-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>pet-life</title><script src="/assets/app-1a2b.js"></script>');
  writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log("pet")');
  writeFileSync(join(tmpdir(), 'pet-life-secret.txt'), 'secret');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('serves index.html at / and its assets', async () => {
    const { app } = createTestApp({ webRoot: root });
    const page = await app.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<title>pet-life<\/title>/);
    const script = await app.request('/assets/app-1a2b.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toMatch(/immutable/);
  });

  it('never serves a file outside the folder', async () => {
    const { app } = createTestApp({ webRoot: root });
    for (const path of [
      '/assets/../../pet-life-secret.txt',
      '/assets/..%2F..%2Fpet-life-secret.txt',
      '/assets/%2e%2e/%2e%2e/pet-life-secret.txt',
      '/assets/missing.js',
    ]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect((await readJson<ErrorJson>(response)).error.code, path).toBe('not_found');
    }
  });

  it('answers / with a 404 saying how to build it when dist/web is missing', async () => {
    const { app } = createTestApp({ webRoot: join(root, 'not-built') });
    const response = await app.request('/');
    expect(response.status).toBe(404);
    const body = await readJson<ErrorJson>(response);
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toMatch(/npm run build/);
  });
});

describe('GET /health', () => {
  it('answers ok without touching storage', async () => {
    const { app, storage } = createTestApp();
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
    expect(storage.roundTrips()).toBe(0);
  });
});
