import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A destructive action behind a modal dialog that asks for the resource's name to be typed,
 * as managed consoles do, so a stray click deletes nothing.
 */
export function ConfirmButton(props: {
  label: string;
  name: string;
  what: string;
  onConfirm: () => Promise<void> | void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (open) ref.current?.showModal();
    else ref.current?.close();
  }, [open]);
  return (
    <>
      <button type="button" class="danger" onClick={() => setOpen(true)}>
        {props.label}
      </button>
      <dialog ref={ref} aria-labelledby="confirm-title" onClose={() => setOpen(false)}>
        <form
          method="dialog"
          onSubmit={async (e) => {
            e.preventDefault();
            setOpen(false);
            await props.onConfirm();
          }}
        >
          <h2 id="confirm-title">
            {props.label} {props.what} {props.name}?
          </h2>
          <label>
            Type <code>{props.name}</code> to confirm
            <input value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
          </label>
          <div class="actions">
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" class="danger" disabled={typed !== props.name}>
              {props.label}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
