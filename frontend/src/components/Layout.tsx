import type { ReactNode } from "react";
import { NavLink } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { useSession } from "../auth";

export function Layout({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  return (
    <div className="shell">
      <header className="topbar">
        <NavLink to="/" className="brand">
          collabadmin
        </NavLink>
        <span className="spacer" />
        <span className="who" data-testid="current-user">
          {user.name}
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <nav className="sidebar" aria-label="Resources">
        <ul>
          {meta.data?.resources.map((r) => (
            <li key={r.name}>
              <NavLink to={`/r/${r.name}`}>{r.label_plural}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content">{children}</main>
    </div>
  );
}
