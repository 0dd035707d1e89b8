/** Pet id (kept in the browser, changeable), a new pet, name and timezone (PATCH), and the reset entry. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { DEVICE_ID_MAX_LENGTH } from '../../../src/rules.ts';
import { DEVICE_ID_PATTERN, type PetView } from '../api.ts';
import type { Texts } from '../i18n.ts';

export interface SettingsProps {
  t: Texts;
  deviceId: string;
  pet: PetView | null;
  /** The browser's IANA timezone, offered as a one-click choice. */
  browserZone?: string;
  busy: boolean;
  onSwitch: (id: string) => void;
  /** Creates a pet born in the browser's timezone and switches to it. */
  onNewPet: () => void;
  onUpdate: (patch: { pet_name?: string; timezone?: string }) => void;
  onReset: () => void;
}

/** The IANA zones this browser knows (plus UTC, which some engines leave out), for the searchable list. */
function knownZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

export function Settings({ t, deviceId, pet, browserZone, busy, onSwitch, onNewPet, onUpdate, onReset }: SettingsProps) {
  const [id, setId] = useState(deviceId);
  const [name, setName] = useState(pet?.name ?? '');
  const [tz, setTz] = useState(pet?.timezone ?? '');
  const [idInvalid, setIdInvalid] = useState(false);
  const [tzInvalid, setTzInvalid] = useState(false);
  const zones = useMemo(() => new Set(knownZones()), []);
  useEffect(() => setId(deviceId), [deviceId]);
  useEffect(() => {
    setName(pet?.name ?? '');
    setTz(pet?.timezone ?? '');
    setTzInvalid(false);
  }, [pet?.deviceId, pet?.name, pet?.timezone]);

  // Aliases the browser reports for itself (Asia/Calcutta) are not always in the canonical list.
  const acceptable = (zone: string) => zones.has(zone) || zone === browserZone || zone === pet?.timezone;

  const switchPet = (e: Event) => {
    e.preventDefault();
    const next = id.trim();
    const ok = DEVICE_ID_PATTERN.test(next);
    setIdInvalid(!ok);
    if (ok && next !== deviceId) onSwitch(next);
  };
  const save = (e: Event) => {
    e.preventDefault();
    const zone = tz.trim();
    const zoneOk = zone === '' || acceptable(zone);
    setTzInvalid(!zoneOk);
    if (!zoneOk) return;
    const patch: { pet_name?: string; timezone?: string } = {};
    if (name.trim() && name.trim() !== pet?.name) patch.pet_name = name.trim();
    if (zone && zone !== pet?.timezone) patch.timezone = zone;
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
            maxLength={DEVICE_ID_MAX_LENGTH}
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
        <button type="button" data-testid="new-pet" disabled={busy} onClick={onNewPet}>
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
            data-testid="pet-tz"
            list="pet-tz-zones"
            value={tz}
            placeholder="Asia/Shanghai"
            autoComplete="off"
            spellcheck={false}
            aria-invalid={tzInvalid}
            aria-describedby="pet-tz-hint"
            onInput={(e) => {
              setTz(e.currentTarget.value);
              setTzInvalid(false);
            }}
          />
          <datalist id="pet-tz-zones">
            {[...zones].map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </div>
        <button type="submit" disabled={busy || !pet}>
          {t.save}
        </button>
        {browserZone && browserZone !== tz && (
          <button type="button" data-testid="use-device-zone" disabled={busy} onClick={() => setTz(browserZone)}>
            {t.useDeviceZone(browserZone)}
          </button>
        )}
        <p id="pet-tz-hint" class={tzInvalid ? 'field-error' : 'muted'} role={tzInvalid ? 'alert' : undefined}>
          {tzInvalid ? t.timezoneUnknown : t.timezoneHint}
        </p>
      </form>
      <button type="button" class="danger" data-testid="reset-open" disabled={busy || !pet} onClick={onReset}>
        {t.reset}
      </button>
    </details>
  );
}
