/**
 * How the browser tests start Chromium: CHROMIUM_PATH when set (CI may point it at its own
 * Chrome), else Debian's /usr/bin/chromium, headless, with the background networking that this
 * machine's closed network refuses switched off.
 */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
