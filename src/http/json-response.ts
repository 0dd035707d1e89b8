/**
 * The pet routes' answer: one Response built with a plain header object (the frame's headers plus
 * the request's own), so that neither Hono nor @hono/node-server builds a Headers object for it —
 * the adapter writes plain headers straight to Node (`writeHead`). Responses made any other way
 * (errors, /docs, static files) get the frame's headers after the fact (request-frame.ts).
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { AppEnv } from './env.js';
import { serverTimingOf } from './server-timing.js';

/** Responses that already carry every header of the frame. */
const framed = new WeakSet<Response>();

/**
 * JSON text of frozen bodies: a frozen body (a cached state document, service/pets/read-cache.ts) never
 * changes, so it is serialised once for all the requests that answer it.
 */
const frozenText = new WeakMap<object, string>();

export function jsonText(body: unknown): string {
  if (body === null || typeof body !== 'object' || !Object.isFrozen(body)) return JSON.stringify(body);
  let text = frozenText.get(body);
  if (text === undefined) {
    text = JSON.stringify(body);
    frozenText.set(body, text);
  }
  return text;
}

/** Answers `body` as JSON with `status` and every header the request has gathered. */
export function jsonResponse(c: Context<AppEnv>, body: unknown, status: number): Response {
  return jsonTextResponse(c, jsonText(body), status);
}

/** Answers JSON text made by the caller (a batch joins its bodies' cached texts) as jsonResponse does. */
export function jsonTextResponse(c: Context<AppEnv>, text: string, status: number, extra?: Record<string, string>): Response {
  const headers: Record<string, string> = { ...c.get('headers'), ...extra, 'Content-Type': 'application/json' };
  return framedResponse(c, text, status, headers);
}

function framedResponse(c: Context<AppEnv>, text: string | null, status: number, headers: Record<string, string>): Response {
  const timing = c.get('timing');
  if (timing !== undefined) headers['Server-Timing'] = serverTimingOf(timing, performance.now());
  const response = new Response(text, { status, headers });
  framed.add(response);
  return response;
}

/**
 * Conditional GET (DESIGN §15): the browser (or a widget) may keep the answer and must ask again
 * each time; a shared cache may not keep it (it can depend on the Bearer secret).
 */
const REVALIDATE = 'private, no-cache';
/** Entity tags of frozen bodies, made once like their text. */
const frozenTags = new WeakMap<object, string>();

/**
 * The entity tag of a JSON text: a digest of the bytes themselves, so it changes exactly when the
 * answer does — another stored version, another simulated minute, another language or shape —
 * and two instances answering the same pet give the same tag.
 */
export function entityTag(text: string): string {
  return `"${createHash('sha1').update(text).digest('base64url').slice(0, 22)}"`;
}

/** True when If-None-Match (a list of tags, weak ones compared weakly, or `*`) names `tag`. */
export function noneMatchHits(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  for (const part of header.split(',')) {
    const candidate = part.trim();
    if (candidate === '*' || candidate === tag || candidate === `W/${tag}`) return true;
  }
  return false;
}

/**
 * jsonResponse for a GET whose answer may be revalidated: a 200 carries ETag and Cache-Control;
 * when If-None-Match names that tag, a 304 with the same headers and no body. Any other status
 * is answered as jsonResponse does.
 */
export function conditionalJsonResponse(c: Context<AppEnv>, body: unknown, status: number, text = jsonText(body)): Response {
  if (status !== 200) return jsonTextResponse(c, text, status);
  const validators = validatorsOf(body, text);
  const tag = validators.ETag;
  if (noneMatchHits(c.req.header('if-none-match'), tag)) return framedResponse(c, null, 304, { ...c.get('headers'), ...validators });
  return jsonTextResponse(c, text, 200, validators);
}

/** ETag (made once per frozen body) and Cache-Control of a 200 that may be revalidated; `text` is jsonText(body). */
export function validatorsOf(body: unknown, text: string): { ETag: string; 'Cache-Control': string } {
  let tag = body !== null && typeof body === 'object' ? frozenTags.get(body) : undefined;
  if (tag === undefined) {
    tag = entityTag(text);
    if (body !== null && typeof body === 'object' && Object.isFrozen(body)) frozenTags.set(body, tag);
  }
  return { ETag: tag, 'Cache-Control': REVALIDATE };
}

/** The response already carries the frame's headers (made by jsonResponse). */
export function isFramed(response: Response): boolean {
  return framed.has(response);
}
