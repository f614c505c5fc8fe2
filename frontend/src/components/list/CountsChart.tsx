import type { Counts, FieldMeta } from "../../api/models";

interface Props {
  field: FieldMeta;
  counts: Counts | undefined;
  loading: boolean;
  active: string;
  onPick: (value: string) => void;
}

/** Records per value of a choice field, as bars; a bar filters the list to its value. */
export function CountsChart({ field, counts, loading, active, onPick }: Props) {
  const rows = counts?.counts ?? [];
  const max = Math.max(1, ...rows.map((r) => r.count));
  return (
    <figure className="chart" data-testid="chart" aria-busy={loading}>
      <figcaption className="muted">By {field.label.toLowerCase()}</figcaption>
      {rows.length === 0 && <p className="muted">{loading ? "Counting…" : "Nothing to count."}</p>}
      <ul>
        {rows.map((r) => {
          const value = r.value === null ? "" : String(r.value);
          const text = r.value === null ? "(empty)" : typeof r.value === "boolean" ? (r.value ? "Yes" : "No") : r.value;
          return (
            <li key={value} data-value={value}>
              <button
                type="button"
                className={`bar-row${active === value ? " active" : ""}`}
                aria-pressed={active === value}
                aria-label={`${text}: ${r.count}`}
                onClick={() => onPick(active === value ? "" : value)}
              >
                <span className="bar-label">{text}</span>
                <span className="bar-track" aria-hidden="true">
                  <span className="bar" style={{ width: `${(r.count / max) * 100}%` }} />
                </span>
                <span className="bar-count" data-testid={`count-${value}`}>
                  {r.count}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}
