/**
 * The methods a path answers to, for 405 Method Not Allowed and its Allow header. Asked only when
 * no route matched (from notFound), so requests that do match pay nothing — unlike
 * hono/method-not-allowed, an async middleware wrapped around every request.
 */
import { TrieRouter } from 'hono/router/trie-router';

/** Returns the methods of the routes matching a path (GET adds HEAD); built on first use, after every route is registered. */
export function allowedMethodsOf(app: { readonly routes: ReadonlyArray<{ method: string; path: string }> }): (path: string) => string[] {
  let router: TrieRouter<string[]> | null = null;
  const build = (): TrieRouter<string[]> => {
    const methodsByPath = new Map<string, Set<string>>();
    for (const route of app.routes) {
      if (route.method === 'ALL' || route.method === 'HEAD') continue;
      const methods = methodsByPath.get(route.path) ?? new Set<string>();
      methods.add(route.method);
      if (route.method === 'GET') methods.add('HEAD');
      methodsByPath.set(route.path, methods);
    }
    const built = new TrieRouter<string[]>();
    for (const [path, methods] of methodsByPath) built.add('ALL', path, [...methods]);
    return built;
  };
  return (path) => {
    router ??= build();
    const allowed = new Set<string>();
    for (const [methods] of router.match('ALL', path)[0]) for (const method of methods) allowed.add(method);
    return [...allowed];
  };
}
