/**
 * The owner's pets (docs/web.md): become an owner (its secret shown once, with a copy button), the
 * owner's pets with their states (GET /api/owners/me/pets) to switch between, a new pet (it
 * belongs to the owner: the Bearer goes with POST /api/pets), and adding the current pet.
 */
import { useEffect, useState } from 'preact/hooks';
import { type ApiClient, ApiError, type PetSummary } from '../api.ts';
import type { Texts } from '../i18n.ts';
import type { StoredOwner } from '../prefs.ts';
import { CopyField } from './copy-field.tsx';

/** Runs a change through the page (one at a time, errors in the banner); true when it succeeded. */
export type RunChange = (op: () => Promise<void>) => Promise<boolean>;

export interface OwnerPanelProps {
  t: Texts;
  api: ApiClient;
  owner: StoredOwner | null;
  /** The secret of an owner just made, shown until the user says it is kept. */
  freshSecret: string | null;
  deviceId: string;
  busy: boolean;
  /** Bumped when the list may have changed (a change, a social event). */
  refreshKey: number;
  run: RunChange;
  describeError: (err: unknown) => string;
  onCreateOwner: () => void;
  onSecretKept: () => void;
  onForget: () => void;
  onSwitch: (id: string) => void;
  onNewPet: () => void;
  onAdopted: () => void;
}

/** The pet's three numbers, short: "Energy 80 · Hunger 20 · Mood 60". */
export function vitalsLine(t: Texts, p: PetSummary): string {
  return `${t.energy} ${Math.round(p.energy)} · ${t.hunger} ${Math.round(p.hunger)} · ${t.mood} ${Math.round(p.mood)}`;
}

export function OwnerPanel(props: OwnerPanelProps) {
  const { t, api, owner, freshSecret, deviceId, busy, refreshKey, run } = props;
  const [pets, setPets] = useState<PetSummary[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [claimSecret, setClaimSecret] = useState('');

  const ownerId = owner?.ownerId ?? null;
  useEffect(() => {
    if (ownerId === null) {
      setPets(null);
      return undefined;
    }
    const abort = new AbortController();
    api
      .ownedPets(abort.signal)
      .then((list) => {
        setPets(list);
        setListError(null);
      })
      .catch((err: unknown) => {
        if (abort.signal.aborted) return;
        // Refused here means the stored secret is no owner's (a wiped server, a mistyped restore).
        const refused = err instanceof ApiError && (err.status === 401 || err.status === 403);
        setListError(refused ? t.ownerSecretRefused : props.describeError(err));
      });
    return () => abort.abort();
  }, [api, ownerId, deviceId, refreshKey]);

  const adopt = (e: Event) => {
    e.preventDefault();
    if (ownerId === null) return;
    const secret = claimSecret.trim();
    void run(async () => {
      // A claimed pet is adopted with its claim secret; an open one is offered to the owner, who accepts at once.
      if (secret) await api.adopt(deviceId, secret);
      else await api.acceptOffer((await api.offerOwner(deviceId, ownerId)).code);
      setClaimSecret('');
      props.onAdopted();
    });
  };

  return (
    <section class="card owner" aria-labelledby="owner-h" data-testid="owner-panel">
      <h2 id="owner-h">{t.ownerTitle}</h2>
      {freshSecret !== null && (
        <div class="secret-box" role="alert" data-testid="owner-secret-box">
          <h3>{t.ownerSecretTitle}</h3>
          <p>{t.ownerSecretKeep}</p>
          <CopyField t={t} label={t.ownerSecretTitle} value={freshSecret} testId="owner-secret" />
          <button type="button" data-testid="owner-secret-done" onClick={props.onSecretKept}>
            {t.ownerSecretDone}
          </button>
        </div>
      )}
      {owner === null ? (
        <>
          <p class="muted">{t.ownerIntro}</p>
          <button type="button" data-testid="owner-create" disabled={busy} onClick={props.onCreateOwner}>
            {t.ownerCreate}
          </button>
        </>
      ) : (
        <>
          <p class="muted small">
            {t.ownerId}
            <code data-testid="owner-id">{owner.ownerId}</code>
          </p>
          {listError !== null && (
            <p class="field-error" role="alert" data-testid="owner-error">
              {listError}
            </p>
          )}
          {pets !== null && pets.length === 0 && <p class="muted">{t.ownerNoPets}</p>}
          <ul class="pet-list" data-testid="owned-pets">
            {(pets ?? []).map((p) => (
              <li key={p.deviceId}>
                <button
                  type="button"
                  class={p.deviceId === deviceId ? 'pet-item current' : 'pet-item'}
                  aria-current={p.deviceId === deviceId ? 'true' : undefined}
                  data-testid={`owned-pet-${p.deviceId}`}
                  disabled={busy}
                  onClick={() => p.deviceId !== deviceId && props.onSwitch(p.deviceId)}
                >
                  <span class="pet-item-name">{p.name}</span>
                  <span class={`chip state-${p.currentState}`}>{t.states[p.currentState] ?? p.currentState}</span>
                  <span class="muted small">{vitalsLine(t, p)}</span>
                </button>
              </li>
            ))}
          </ul>
          <div class="row">
            <button type="button" data-testid="owner-new-pet" disabled={busy} onClick={props.onNewPet}>
              {t.newPet}
            </button>
          </div>
          {pets !== null && !pets.some((p) => p.deviceId === deviceId) && (
            <form class="row adopt" onSubmit={adopt}>
              <div class="field">
                <label for="adopt-secret">{t.adoptSecret}</label>
                <input
                  id="adopt-secret"
                  data-testid="adopt-secret"
                  value={claimSecret}
                  autoComplete="off"
                  spellcheck={false}
                  onInput={(e) => setClaimSecret(e.currentTarget.value)}
                />
              </div>
              <button type="submit" data-testid="adopt" disabled={busy}>
                {t.adoptTitle}
              </button>
            </form>
          )}
          <button type="button" class="link" data-testid="owner-forget" onClick={props.onForget}>
            {t.ownerForget}
          </button>
        </>
      )}
    </section>
  );
}
