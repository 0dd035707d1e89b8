/**
 * The OpenAPI document without its cost on a cold start (docs/deploy.md, "Cold start").
 * @hono/zod-openapi pulls in all of zod and @asteasolutions/zod-to-openapi (a large part of a
 * cold function's import, bundled; docs/operations.md, "Cold start, step by step");
 * the routes need neither to serve requests: their zod schemas validate on their own (pet-route.ts).
 * So the app is a plain Hono app that records what the document needs (each route's createRoute()
 * definition, the components), the schemas carry their OpenAPI fields as zod's own metadata
 * (`.meta({ id: 'Name', example, description, … })`, which zod-to-openapi reads as it reads
 * `.openapi('Name', {…})`), and the first GET /openapi.json loads @hono/zod-openapi and builds the
 * document from those records, once per app. The same document, byte for byte, as @hono/zod-openapi
 * built at start-up before (compared when this was written; test/http/openapi-docs.test.ts checks every
 * served route is in it).
 */
import type { OpenAPIHono, RouteConfig as ZodOpenApiRouteConfig } from '@hono/zod-openapi';
import { type Context, type Env, Hono } from 'hono';

export type RouteConfig = ZodOpenApiRouteConfig;

/** A route's definition as the document shows it; also what servePetRoute validates with. Same shape as zod-openapi's createRoute. */
export function createRoute<R extends RouteConfig>(route: R): R {
  return route;
}

type ComponentArgs = [type: string, name: string, component: unknown];

/** What `app.openAPIRegistry` of @hono/zod-openapi offered that the routes use, recorded. */
export interface DocumentRegistry {
  registerPath(route: RouteConfig): void;
  registerComponent(type: string, name: string, component: unknown): void;
}

/** The document's top level (openapi, info, tags …), as zod-openapi's `doc()` takes it. */
export type DocumentConfig = Parameters<OpenAPIHono['getOpenAPIDocument']>[0];

/** Builds the document from the records, with @hono/zod-openapi loaded now. */
async function buildDocument(
  paths: readonly RouteConfig[],
  components: readonly ComponentArgs[],
  config: DocumentConfig,
): Promise<unknown> {
  const { OpenAPIHono: Generator } = await import('@hono/zod-openapi');
  const generator = new Generator();
  for (const [type, name, component] of components) {
    generator.openAPIRegistry.registerComponent(type as never, name, component as never);
  }
  for (const route of paths) generator.openAPIRegistry.registerPath(route);
  return generator.getOpenAPIDocument(config);
}

/** A Hono app that records its OpenAPI document and builds it on first request. */
export class DocumentedHono<E extends Env> extends Hono<E> {
  readonly #paths: RouteConfig[] = [];
  readonly #components: ComponentArgs[] = [];

  readonly openAPIRegistry: DocumentRegistry = {
    registerPath: (route) => {
      this.#paths.push(route);
    },
    registerComponent: (type, name, component) => {
      this.#components.push([type, name, component]);
    },
  };

  /** Serves the document at `path` (GET), built on its first request. */
  doc(path: string, config: DocumentConfig): void {
    let document: Promise<unknown> | null = null;
    this.get(path, async (c) => {
      // Kept once built; a failed build (the chunk did not load) is tried again by the next request.
      document ??= buildDocument(this.#paths, this.#components, config).catch((error: unknown) => {
        document = null;
        throw error;
      });
      return c.json(await document);
    });
  }

  /**
   * Documents `route` and serves it with `handler`, for routes that take no input (health,
   * readiness). Routes with query, parameters or a body go through servePetRoute, which checks them.
   */
  openapi(route: RouteConfig, handler: (c: Context<E>) => Response | Promise<Response>): void {
    if (route.request !== undefined) throw new Error(`${route.path} takes input: serve it with servePetRoute, which checks it`);
    this.openAPIRegistry.registerPath(route);
    this.on(route.method.toUpperCase(), route.path.replaceAll(/\/{(.+?)}/g, '/:$1'), handler);
  }
}
