/**
 * How the pet and compatibility routes are served. Each route's createRoute() definition goes
 * into the OpenAPI document as it is, and its query, path parameters and JSON body are checked
 * against the same zod schemas — synchronously, before the handler, instead of one async
 * validator middleware per part as @hono/zod-openapi's `app.openapi()` would add (a visible share of
 * a GET state's CPU: docs/operations.md, "Where the time goes"). Same checks in the same order, same coded errors
 * (validation.ts): query, then parameters, then the body — 415 when a body is sent as anything
 * but JSON, 400 when it is not valid JSON.
 */
import type { DocumentedHono, RouteConfig } from './openapi.js';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import type { AppEnv } from './env.js';
import { invalidInputFrom } from './validation.js';

type Schema = z.ZodType;
type Request<R extends RouteConfig> = NonNullable<R['request']>;
type Output<S> = S extends Schema ? z.output<S> : undefined;
type JsonSchemaOf<R extends RouteConfig> = Request<R>['body'] extends { content: { 'application/json': { schema: infer S } } }
  ? S
  : undefined;

/** What a route's handler receives, already checked. */
export interface ValidInput<R extends RouteConfig> {
  query: Output<Request<R>['query']>;
  param: Output<Request<R>['params']>;
  json: Output<JsonSchemaOf<R>>;
}

/** `application/json`, `application/x+json`, with parameters: what @hono/zod-openapi accepts for a JSON body. */
const JSON_CONTENT_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

function check(target: 'query' | 'param' | 'json', schema: Schema, value: unknown): unknown {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInputFrom(target, result.error);
  return result.data;
}

/** The query as Hono's validator reads it: one value per name, or an array when repeated. */
function queryOf(c: Context<AppEnv>): Record<string, string | string[] | undefined> {
  if (!c.req.url.includes('?')) return {};
  return Object.fromEntries(Object.entries(c.req.queries()).map(([name, values]) => [name, values.length === 1 ? values[0] : values]));
}

/** The parsed JSON body; `{}` when none was sent (the schema then says what is missing). */
async function jsonBodyOf(c: Context<AppEnv>): Promise<unknown> {
  const type = c.req.header('content-type');
  if (type === undefined) {
    if ((await c.req.text()).length > 0) throw new HTTPException(415, { message: 'Unsupported Media Type' });
    return {};
  }
  if (!JSON_CONTENT_TYPE.test(type)) throw new HTTPException(415, { message: 'Unsupported Media Type' });
  try {
    return await c.req.json();
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  }
}

export interface ServeOptions {
  /**
   * Checks the body with this schema instead of the documented one (POST /api/batch: only the
   * envelope, so that a malformed operation is that operation's 400, not the whole request's).
   */
  bodySchema?: Schema;
}

/** Documents `route` in /openapi.json and serves it with `handler` on checked input. */
export function servePetRoute<R extends RouteConfig>(
  app: DocumentedHono<AppEnv>,
  route: R,
  handler: (c: Context<AppEnv>, input: ValidInput<R>) => Promise<Response>,
  options: ServeOptions = {},
): void {
  app.openAPIRegistry.registerPath(route);
  const query = route.request?.query as Schema | undefined;
  const params = route.request?.params as Schema | undefined;
  const documented = (route.request?.body?.content as Record<string, { schema?: Schema }> | undefined)?.['application/json']?.schema;
  const body = options.bodySchema ?? documented;
  const path = route.path.replaceAll(/\/{(.+?)}/g, '/:$1');
  app.on(route.method.toUpperCase(), path, async (c) => {
    const input = {
      query: query === undefined ? undefined : check('query', query, queryOf(c)),
      param: params === undefined ? undefined : check('param', params, c.req.param()),
      json: body === undefined ? undefined : check('json', body, await jsonBodyOf(c)),
    } as ValidInput<R>;
    return handler(c, input);
  });
}
