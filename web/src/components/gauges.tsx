/** Energy, hunger and mood as labelled <meter>s (screen readers read name and value). */
import type { PetView } from '../api.ts';
import type { Texts } from '../i18n.ts';

interface GaugeProps {
  id: 'energy' | 'hunger' | 'mood';
  label: string;
  value: number;
  /** Whether a high value is good (energy, mood) or bad (hunger). */
  highIsGood: boolean;
}

function Gauge({ id, label, value, highIsGood }: GaugeProps) {
  const shown = Math.round(value);
  return (
    <div class={`gauge gauge-${id}`}>
      <label for={`gauge-${id}`}>{label}</label>
      <meter
        id={`gauge-${id}`}
        data-testid={`gauge-${id}`}
        min={0}
        max={100}
        low={30}
        high={70}
        optimum={highIsGood ? 100 : 0}
        value={value}
        aria-valuetext={`${shown} / 100`}
      />
      <output for={`gauge-${id}`} class="gauge-value" data-testid={`value-${id}`}>
        {shown}
      </output>
    </div>
  );
}

export function Gauges({ pet, t }: { pet: PetView; t: Texts }) {
  return (
    <section class="card gauges" aria-labelledby="vitals-h">
      <h2 id="vitals-h">{t.vitals}</h2>
      <Gauge id="energy" label={t.energy} value={pet.energy} highIsGood />
      <Gauge id="hunger" label={t.hunger} value={pet.hunger} highIsGood={false} />
      <Gauge id="mood" label={t.mood} value={pet.mood} highIsGood />
      <p class="pulse">
        <span>{t.pulse}</span>{' '}
        <span class="pulse-dots" aria-hidden="true">
          {pet.pulseSymbol}
        </span>{' '}
        <span>
          {Math.round(pet.pulseRate)} {t.bpm}
          {pet.pulseIntensity ? ` · ${pet.pulseIntensity}` : ''}
        </span>
      </p>
    </section>
  );
}
