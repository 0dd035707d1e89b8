/** A read-only value with a copy button (owner secret, invite code): the clipboard, else a selection. */
import { useRef, useState } from 'preact/hooks';
import type { Texts } from '../i18n.ts';

async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    // The clipboard API needs a secure context (https or localhost); a LAN address over http has none.
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // refused (no permission): fall back to the selection below
  }
  if (input === null) return false;
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

export interface CopyFieldProps {
  t: Texts;
  label: string;
  value: string;
  testId: string;
}

export function CopyField({ t, label, value, testId }: CopyFieldProps) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <div class="copy-field">
      <label class="sr-only" for={`${testId}-input`}>
        {label}
      </label>
      <input
        id={`${testId}-input`}
        ref={input}
        data-testid={testId}
        value={value}
        readOnly
        spellcheck={false}
        onFocus={(e) => e.currentTarget.select()}
      />
      <button type="button" data-testid={`${testId}-copy`} onClick={() => void copyText(value, input.current).then(setCopied)}>
        {t.copy}
      </button>
      {copied !== null && (
        <span class={copied ? 'muted' : 'field-error'} role="status" data-testid={`${testId}-copied`}>
          {copied ? t.copied : t.copyFailed}
        </span>
      )}
    </div>
  );
}
