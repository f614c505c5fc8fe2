// The dashboard's figures: every live view that describes no one record (the
// demo's catalogue figures per course status), as a small table read once and
// read again when one of its rows moves.
import { useEffect } from "react";
import { Link } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { ResourceMeta } from "../../api/models";
import { live } from "../../live";
import { display } from "../../format";
import { recordKey } from "../../recordKey";

const SHOWN = 10;

export function LiveFigures({ resources }: { resources: ResourceMeta[] }) {
  return (
    <>
      {resources
        .filter((r) => r.derived && !r.describes)
        .map((view) => (
          <Figures key={view.name} view={view} />
        ))}
    </>
  );
}

function Figures({ view }: { view: ResourceMeta }) {
  const queryClient = useQueryClient();
  const key = ["figures", view.name];
  const rows = useQuery({ queryKey: key, queryFn: () => api.list(view.name, { limit: String(SHOWN) }) });
  useEffect(
    () =>
      // A few rows: reading them again is simpler than applying each diff.
      live.subscribe(`r/${view.name}`, (frame) => {
        if (frame.type === "change" || frame.type === "resync") {
          void queryClient.invalidateQueries({ queryKey: ["figures", view.name] });
        }
      }),
    [view.name, queryClient],
  );
  const columns = view.fields;
  return (
    <section className="panel figures-card" aria-labelledby={`figures-${view.name}`} data-slot={`figures-${view.name}`}>
      <h2 id={`figures-${view.name}`}>
        <Link to={`/r/${view.name}`}>{view.label_plural}</Link>
      </h2>
      {rows.error && <p className="error">{rows.error.message}</p>}
      {rows.data && rows.data.items.length === 0 && <p className="muted">Nothing to show yet.</p>}
      {rows.data && rows.data.items.length > 0 && (
        <table className="grid compact">
          <thead>
            <tr>
              {columns.map((f) => (
                <th key={f.name} scope="col">
                  {f.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.data.items.map((row) => (
              <tr key={recordKey(view, row) ?? JSON.stringify(row)} data-pk={recordKey(view, row) ?? undefined}>
                {columns.map((f) => (
                  <td key={f.name}>{display(row[f.name], f)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
