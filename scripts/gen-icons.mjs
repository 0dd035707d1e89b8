/**
 * Draws the page's PWA icons (web/public/icons/*.png): the paw of the favicon on the page's cream
 * background, written as PNG bytes with node:zlib (no image tool needed). `maskable` keeps the paw
 * inside the central 80 % safe zone that launchers may crop to a circle. Run: node scripts/gen-icons.mjs
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BACKGROUND = [0xfd, 0xf6, 0xec];
const PAW = [0x3d, 0x5a, 0x80];
// The favicon's shapes in a 24-unit box: a pad (ellipse) and four toes (circles).
const SHAPES = [
  { cx: 12, cy: 16, rx: 5, ry: 4.2 },
  { cx: 5.5, cy: 10, rx: 2.2, ry: 2.2 },
  { cx: 9.5, cy: 6, rx: 2.2, ry: 2.2 },
  { cx: 14.5, cy: 6, rx: 2.2, ry: 2.2 },
  { cx: 18.5, cy: 10, rx: 2.2, ry: 2.2 },
];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function draw(size, zone) {
  // zone: the share of the icon the 24-unit paw box fills, centred.
  const scale = (size * zone) / 24;
  const offset = (size - size * zone) / 2;
  const SAMPLES = 4;
  const rows = [];
  for (let y = 0; y < size; y += 1) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x += 1) {
      let covered = 0;
      for (let sy = 0; sy < SAMPLES; sy += 1) {
        for (let sx = 0; sx < SAMPLES; sx += 1) {
          const u = (x + (sx + 0.5) / SAMPLES - offset) / scale;
          const v = (y + (sy + 0.5) / SAMPLES - offset) / scale;
          if (SHAPES.some((s) => ((u - s.cx) / s.rx) ** 2 + ((v - s.cy) / s.ry) ** 2 <= 1)) covered += 1;
        }
      }
      const a = covered / (SAMPLES * SAMPLES);
      for (let i = 0; i < 3; i += 1) row[1 + x * 3 + i] = Math.round(BACKGROUND[i] * (1 - a) + PAW[i] * a);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('../web/public/icons/', import.meta.url);
writeFileSync(new URL('icon-192.png', dir), draw(192, 0.86));
writeFileSync(new URL('icon-512.png', dir), draw(512, 0.86));
writeFileSync(new URL('maskable-512.png', dir), draw(512, 0.6));
writeFileSync(new URL('apple-touch-icon.png', dir), draw(180, 0.8));
