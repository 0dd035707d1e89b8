/**
 * The pet routes' answer: one Response built with a plain header object (the frame's headers plus
 * the request's own), so that neither Hono nor @hono/node-server builds a Headers object for it —
 * the adapter writes plain headers straight to Node (`writeHead`). Responses made any other way
 * (errors, /docs, static files) get the frame's headers after the fact (request-frame.ts).
 */
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
export function jsonTextResponse(c: Context<AppEnv>, text: string, status: number): Response {
  const headers: Record<string, string> = { ...c.get('headers'), 'Content-Type': 'application/json' };
  const timing = c.get('timing');
  if (timing !== undefined) headers['Server-Timing'] = serverTimingOf(timing, performance.now());
  const response = new Response(text, { status, headers });
  framed.add(response);
  return response;
}

/** The response already carries the frame's headers (made by jsonResponse). */
export function isFramed(response: Response): boolean {
  return framed.has(response);
}
