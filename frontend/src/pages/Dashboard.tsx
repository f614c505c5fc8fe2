import { Link } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { useSession } from "../auth";

export function Dashboard() {
  const { user } = useSession();
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  return (
    <section>
      <h1>Welcome, {user.name}</h1>
      {meta.isLoading && <p role="status">Loading…</p>}
      {meta.error && <p className="error">{meta.error.message}</p>}
      <div className="cards">
        {meta.data?.resources.map((r) => (
          <Link key={r.name} to={`/r/${r.name}`} className="card">
            <strong>{r.label_plural}</strong>
            <span className="muted">{r.actions.join(" · ")}</span>
          </Link>
        ))}
      </div>
    </section>
  );
}
