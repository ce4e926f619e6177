import { useId, useState, type ReactNode } from 'react';
import type { ApiError } from '../api/client.ts';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** An error from the server or the network, with an optional retry. */
export function ErrorMessage({ error, retry, title = 'Something went wrong' }: { error: Error | undefined; retry?: () => void; title?: string }) {
  if (!error) return null;
  const field = (error as ApiError).field;
  return (
    <div className="error" role="alert">
      <strong>{title}:</strong> {error.message}
      {field ? <span className="muted"> (field: {field})</span> : null}
      {retry ? (
        <button type="button" className="link-button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** A labelled form control; `hint` and errors are announced with the control. */
export function Field({ label, hint, children }: { label: string; hint?: ReactNode; children: (props: { id: string; 'aria-describedby'?: string }) => ReactNode }) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-describedby': hintId })}
      {hint ? (
        <small id={hintId} className="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

/**
 * Copies `value`. The Clipboard API exists only in secure contexts (https or localhost) and may be
 * refused: the button then says so, rather than claiming it copied, and the value stays selectable.
 */
export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      className="secondary small"
      onClick={async () => {
        let next: 'copied' | 'failed' = 'copied';
        try {
          if (!navigator.clipboard) throw new Error('no clipboard');
          await navigator.clipboard.writeText(value);
        } catch {
          next = 'failed';
        }
        setState(next);
        setTimeout(() => setState('idle'), next === 'failed' ? 6000 : 2000);
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Not copied' : label}
      <span className="visually-hidden" aria-live="polite">
        {state === 'copied' ? ' to the clipboard' : state === 'failed' ? ': the browser refused; select the text and copy it' : ''}
      </span>
    </button>
  );
}

/** A value to paste somewhere else: shown in full (wrapping), with a copy button. */
export function CopyValue({ label, value }: { label: string; value: string }) {
  return (
    <div className="copy-value">
      <span className="copy-label">{label}</span>
      <code className="wrap">{value}</code>
      <CopyButton value={value} label={`Copy ${label}`} />
    </div>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'good' | 'warn' | 'bad'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function Page({ title, actions, children }: { title: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <>
      <div className="page-head">
        <h1 className="wrap">{title}</h1>
        {actions ? <div className="actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const id = useId();
  return (
    <section className="card" aria-labelledby={id}>
      <div className="section-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** Tables scroll sideways inside their card instead of widening the page. */
export function Table({ caption, children }: { caption: string; children: ReactNode }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption className="visually-hidden">{caption}</caption>
        {children}
      </table>
    </div>
  );
}

export function formatDate(value: string | Date | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

/** A form's submit button with its busy label, the "Saved." confirmation and the error. */
export function SaveBar({ label, busy, saved, error }: { label: string; busy: boolean; saved: boolean; error: Error | undefined }) {
  return (
    <>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : label}
        </button>
      </div>
      {saved ? (
        <p className="success" role="status">
          Saved.
        </p>
      ) : null}
      <ErrorMessage error={error} title="Not saved" />
    </>
  );
}
