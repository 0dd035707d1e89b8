/** Pet id (kept in the browser, changeable), name and timezone (PATCH), and the reset entry. */
import { useEffect, useState } from 'preact/hooks';
import { DEVICE_ID_PATTERN, type PetView } from '../api.ts';
import type { Texts } from '../i18n.ts';
import { randomDeviceId } from '../prefs.ts';

export interface SettingsProps {
  t: Texts;
  deviceId: string;
  pet: PetView | null;
  busy: boolean;
  onSwitch: (id: string) => void;
  onUpdate: (patch: { pet_name?: string; timezone?: string }) => void;
  onReset: () => void;
}

export function Settings({ t, deviceId, pet, busy, onSwitch, onUpdate, onReset }: SettingsProps) {
  const [id, setId] = useState(deviceId);
  const [name, setName] = useState(pet?.name ?? '');
  const [tz, setTz] = useState(pet?.timezone ?? '');
  const [idInvalid, setIdInvalid] = useState(false);
  useEffect(() => setId(deviceId), [deviceId]);
  useEffect(() => {
    setName(pet?.name ?? '');
    setTz(pet?.timezone ?? '');
  }, [pet?.deviceId, pet?.name, pet?.timezone]);

  const switchPet = (e: Event) => {
    e.preventDefault();
    const next = id.trim();
    const ok = DEVICE_ID_PATTERN.test(next);
    setIdInvalid(!ok);
    if (ok && next !== deviceId) onSwitch(next);
  };
  const save = (e: Event) => {
    e.preventDefault();
    const patch: { pet_name?: string; timezone?: string } = {};
    if (name.trim() && name.trim() !== pet?.name) patch.pet_name = name.trim();
    if (tz.trim() && tz.trim() !== pet?.timezone) patch.timezone = tz.trim();
    if (Object.keys(patch).length > 0) onUpdate(patch);
  };

  return (
    <details class="card settings">
      <summary>{t.settings}</summary>
      <form class="row" onSubmit={switchPet}>
        <div class="field">
          <label for="pet-id">{t.petId}</label>
          <input
            id="pet-id"
            data-testid="pet-id"
            value={id}
            maxLength={64}
            autoComplete="off"
            spellcheck={false}
            aria-invalid={idInvalid}
            aria-describedby="pet-id-hint"
            onInput={(e) => setId(e.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={busy}>
          {t.switchPet}
        </button>
        <button type="button" disabled={busy} onClick={() => onSwitch(randomDeviceId())}>
          {t.newPet}
        </button>
        <p id="pet-id-hint" class={idInvalid ? 'field-error' : 'muted'} role={idInvalid ? 'alert' : undefined}>
          {idInvalid ? t.petIdInvalid : t.petIdHint}
        </p>
      </form>
      <form class="row" onSubmit={save}>
        <div class="field">
          <label for="pet-name">{t.petName}</label>
          <input id="pet-name" value={name} maxLength={32} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="pet-tz">{t.timezone}</label>
          <input
            id="pet-tz"
            value={tz}
            placeholder="Asia/Shanghai"
            autoComplete="off"
            spellcheck={false}
            onInput={(e) => setTz(e.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={busy || !pet}>
          {t.save}
        </button>
      </form>
      <button type="button" class="danger" data-testid="reset-open" disabled={busy || !pet} onClick={onReset}>
        {t.reset}
      </button>
    </details>
  );
}
