import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

/**
 * A button whose action is asked for twice: the first press opens an inline confirmation (an
 * `alertdialog` that takes the focus, so a keyboard or screen-reader user lands on the question);
 * Escape or "Cancel" closes it and gives the focus back to the button. Inline rather than modal, so
 * the page behind stays readable and nothing has to trap the focus.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  busyLabel,
  busy,
  disabled,
  onConfirm,
}: {
  /** The first button's text (an ellipsis says a question follows). */
  label: string;
  question: ReactNode;
  confirmLabel: string;
  busyLabel: string;
  busy: boolean;
  disabled?: boolean;
  /** Runs the action; the confirmation closes when it settles. */
  onConfirm(): Promise<unknown>;
}) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const trigger = useRef<HTMLButtonElement>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);
  useEffect(() => {
    if (open) confirm.current?.focus();
    else if (wasOpen.current) trigger.current?.focus();
    wasOpen.current = open;
  }, [open]);
  if (!open)
    return (
      <button ref={trigger} type="button" className="danger" disabled={disabled || busy} onClick={() => setOpen(true)}>
        {busy ? busyLabel : label}
      </button>
    );
  return (
    <div
      className="notice confirm"
      role="alertdialog"
      aria-labelledby={`${id}-q`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) setOpen(false);
      }}
    >
      <p id={`${id}-q`} className="wrap">
        {question}
      </p>
      <div className="actions">
        <button
          ref={confirm}
          type="button"
          className="danger"
          disabled={busy}
          onClick={async () => {
            await onConfirm();
            setOpen(false);
          }}
        >
          {busy ? busyLabel : confirmLabel}
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </div>
  );
}
