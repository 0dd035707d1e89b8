/**
 * The page's service worker (docs/web.md, docs/design.md §13), built by vite-plugin-pwa
 * (injectManifest, no precache: the pet page is a live view, useless offline, and must never be
 * served stale). It shows a Web Push as a notification in the pet's voice and, on a click,
 * focuses or opens the pet's page. The payload is the server's
 * `{"title", "body", "device_id", "type", "event_id", "url"}`; anything missing falls back to
 * something sensible, a URL of another origin to the page itself.
 */

// The WebWorker lib clashes with the page's DOM lib in one program: the few types used, by hand.
interface PushData {
  json(): unknown;
  text(): string;
}
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: PushData | null;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface WindowClient {
  readonly url: string;
  focus(): Promise<WindowClient>;
  navigate(url: string): Promise<WindowClient | null>;
}
interface WorkerSelf {
  readonly location: Location;
  readonly registration: ServiceWorkerRegistration;
  readonly clients: {
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'push', listener: (event: PushEvent) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: NotificationEvent) => void): void;
}

const worker = self as unknown as WorkerSelf;

type Json = Record<string, unknown>;
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** A same-origin URL to open: the payload's, else the pet's page, else the page. */
function pageUrl(payload: Json): string {
  const origin = worker.location.origin;
  const deviceId = text(payload['device_id']);
  const fallback = new URL(deviceId === null ? '/' : `/?pet=${encodeURIComponent(deviceId)}`, origin);
  const given = text(payload['url']);
  if (given === null) return fallback.href;
  try {
    const url = new URL(given, origin);
    return url.origin === origin ? url.href : fallback.href;
  } catch {
    return fallback.href;
  }
}

function readPayload(data: PushData | null): Json {
  if (data === null) return {};
  try {
    const parsed = data.json();
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    return { body: data.text() };
  }
}

// A new worker takes over at once: it holds no caches that an old page could depend on.
worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('push', (event) => {
  const payload = readPayload(event.data);
  const deviceId = text(payload['device_id']);
  const type = text(payload['type']);
  // One notification per pet and kind: a newer "hungry" replaces an unread older one.
  const tag = deviceId === null ? undefined : `${deviceId}:${type ?? 'event'}`;
  const options: NotificationOptions = {
    body: text(payload['body']) ?? '',
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { url: pageUrl(payload), event_id: text(payload['event_id']) },
    ...(tag === undefined ? {} : { tag }),
  };
  event.waitUntil(worker.registration.showNotification(text(payload['title']) ?? 'pet-life', options));
});

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  const url = pageUrl({ url: data?.url });
  event.waitUntil(
    (async () => {
      const windows = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const same = windows.find((client) => client.url === url);
      if (same) return same.focus();
      const page = windows[0];
      // A tab of the page already open goes to the pet (navigate works only on a tab this worker
      // controls); otherwise a new one opens.
      const moved = page ? await page.navigate(url).catch(() => null) : null;
      return moved ? moved.focus() : worker.clients.openWindow(url);
    })(),
  );
});
