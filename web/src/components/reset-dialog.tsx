/** Reset behind an in-page modal <dialog> (focus is trapped, Esc cancels), not window.confirm. */
import { useEffect, useRef } from 'preact/hooks';
import type { Texts } from '../i18n.ts';

export interface ResetDialogProps {
  open: boolean;
  name: string;
  t: Texts;
  onCancel: () => void;
  onConfirm: () => void;
}

export function ResetDialog({ open, name, t, onCancel, onConfirm }: ResetDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="reset-h" aria-describedby="reset-body" data-testid="reset-dialog" onClose={onCancel}>
      <h2 id="reset-h">{t.resetTitle}</h2>
      <p id="reset-body">{t.resetBody(name)}</p>
      <div class="dialog-buttons">
        <button type="button" onClick={onCancel} autofocus data-testid="reset-cancel">
          {t.cancel}
        </button>
        <button type="button" class="danger" onClick={onConfirm} data-testid="reset-confirm">
          {t.resetConfirm}
        </button>
      </div>
    </dialog>
  );
}
