/**
 * The pet as an SVG blob: filled with its `color_hex`, breathing once per heartbeat
 * (animation period 60/pulse_rate s), eyes closed and a drifting "z" while it sleeps.
 */
import type { PetView } from '../api.ts';

export interface CreatureProps {
  pet: PetView;
  label: string;
  /** Bumped on each interaction to replay a short hop. */
  bounce: number;
}

function mouth(state: string): string {
  switch (state) {
    case 'grumpy':
    case 'hungry':
      return 'M88 122 Q100 114 112 122'; // frown
    case 'bored':
    case 'sleepy':
      return 'M90 120 L110 120'; // flat
    case 'sleep':
      return 'M94 120 Q100 124 106 120'; // small, relaxed
    default:
      return 'M86 116 Q100 130 114 116'; // smile
  }
}

/** Relative luminance (WCAG) of `#RRGGBB`, 0 (black) – 1 (white). */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

export function Creature({ pet, label, bounce }: CreatureProps) {
  const beat = `${(60 / pet.pulseRate).toFixed(3)}s`;
  const asleep = pet.asleep;
  // Eyes and mouth stay readable on any body colour (indigo at night, yellow by day).
  const ink = luminance(pet.colorHex) < 0.12 ? '#f8f9fa' : '#2b2d42';
  return (
    <svg
      class={`creature${asleep ? ' is-asleep' : ''}`}
      viewBox="0 0 200 190"
      role="img"
      aria-label={label}
      data-testid="creature"
      data-asleep={asleep ? 'true' : 'false'}
      style={{ '--beat': beat }}
    >
      <defs>
        <radialGradient id="sheen" cx="35%" cy="30%" r="70%">
          <stop offset="0" stop-color="#fff" stop-opacity="0.55" />
          <stop offset="0.6" stop-color="#fff" stop-opacity="0" />
          <stop offset="1" stop-color="#000" stop-opacity="0.12" />
        </radialGradient>
      </defs>
      <ellipse class="creature-shadow" cx="100" cy="172" rx="58" ry="9" />
      <g class="creature-hop" key={bounce}>
        <g class="creature-body">
          <path
            d="M100 40 C150 40 172 80 170 118 C168 152 140 168 100 168 C60 168 32 152 30 118 C28 80 50 40 100 40 Z"
            fill={pet.colorHex}
            data-testid="creature-fill"
          />
          <path
            d="M100 40 C150 40 172 80 170 118 C168 152 140 168 100 168 C60 168 32 152 30 118 C28 80 50 40 100 40 Z"
            fill="url(#sheen)"
          />
          <path d="M62 52 Q56 30 70 26 Q74 42 80 46 Z" fill={pet.colorHex} />
          <path d="M138 52 Q144 30 130 26 Q126 42 120 46 Z" fill={pet.colorHex} />
          {asleep ? (
            <g class="eyes-closed" stroke={ink} stroke-width="4" stroke-linecap="round" fill="none">
              <path d="M66 100 Q76 108 86 100" />
              <path d="M114 100 Q124 108 134 100" />
            </g>
          ) : (
            <g class="eyes-open">
              <circle cx="76" cy="98" r="10" fill="#2b2d42" stroke={ink} stroke-width="2" />
              <circle cx="124" cy="98" r="10" fill="#2b2d42" stroke={ink} stroke-width="2" />
              <circle cx="79" cy="94" r="3.5" fill="#fff" />
              <circle cx="127" cy="94" r="3.5" fill="#fff" />
            </g>
          )}
          <ellipse cx="62" cy="118" rx="9" ry="5" fill="#ff6b8b" opacity="0.35" />
          <ellipse cx="138" cy="118" rx="9" ry="5" fill="#ff6b8b" opacity="0.35" />
          <path d={mouth(pet.currentState)} stroke={ink} stroke-width="4" stroke-linecap="round" fill="none" />
        </g>
      </g>
      {asleep && (
        <g class="zzz" fill="#5c677d" font-weight="700">
          <text x="150" y="50" font-size="22">
            z
          </text>
          <text x="166" y="30" font-size="16">
            z
          </text>
        </g>
      )}
    </svg>
  );
}
