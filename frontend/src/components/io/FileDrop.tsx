// A file chosen by dropping it here or with the file input (the keyboard's
// and the phone's way).
import { useId, useState, type DragEvent } from "react";

interface Props {
  onFile: (file: File) => void;
  /** What the zone says it takes ("CSV or Excel (.xlsx), up to 10 MB"). */
  hint: string;
  label: string;
  disabled?: boolean;
  compact?: boolean;
}

export const ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

export function FileDrop({ onFile, hint, label, disabled = false, compact = false }: Props) {
  const id = useId();
  const [over, setOver] = useState(false);
  const drop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer.files[0];
    if (file && !disabled) onFile(file);
  };
  return (
    <div
      className={`drop-zone${over ? " over" : ""}${compact ? " compact" : ""}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      {!compact && <p>Drop a file here, or choose one.</p>}
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="file"
        accept={ACCEPT}
        disabled={disabled}
        onChange={(e) => {
          const file = e.target.files?.[0];
          // Cleared, so choosing the same (corrected) file again is a change too.
          e.target.value = "";
          if (file) onFile(file);
        }}
      />
      <p className="muted">{hint}</p>
    </div>
  );
}
