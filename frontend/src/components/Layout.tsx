import type { ReactNode } from "react";
import { NavLink, useLocation } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { useSession } from "../auth";
import { useTheme } from "../theme";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { DraftWatcher } from "./drafts/DraftWatcher";

export function Layout({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const [theme, toggleTheme] = useTheme();
  const mayAudit = meta.data?.resources.some((r) => r.actions.includes("audit")) ?? false;
  const mayReview = meta.data?.resources.some((r) => r.actions.includes("publish")) ?? false;
  // The review queue is the drafts list filtered to `submitted`: one of the two links is current.
  const location = useLocation();
  const inQueue = location.pathname === "/drafts" && new URLSearchParams(location.search).get("status") === "submitted";
  return (
    <div className="shell">
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand">
          collabadmin
        </NavLink>
        <span className="spacer" />
        <ConnectionIndicator />
        <button
          type="button"
          className="secondary icon"
          data-testid="theme-toggle"
          aria-label={theme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
          title={theme === "dark" ? "Light theme" : "Dark theme"}
          onClick={toggleTheme}
        >
          <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
        </button>
        <span className="who" data-testid="current-user">
          {user.name}
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div className="sidebar">
        <nav aria-label="Resources">
          <ul>
            {meta.data?.resources.map((r) => (
              <li key={r.name}>
                <NavLink to={`/r/${r.name}`}>{r.label_plural}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <nav aria-label="Tools">
          <ul>
            <li>
              <NavLink to="/drafts" end className={({ isActive }) => (isActive && !inQueue ? "active" : "")}>
                Drafts
              </NavLink>
            </li>
            {mayReview && (
              <li>
                <NavLink
                  to="/drafts?status=submitted"
                  end
                  className={() => (inQueue ? "active" : "")}
                  aria-current={inQueue ? "page" : undefined}
                >
                  Review queue
                </NavLink>
              </li>
            )}
            <li>
              <NavLink to="/workflow-runs">Checklists</NavLink>
            </li>
            {mayAudit && (
              <li>
                <NavLink to="/audit">Audit log</NavLink>
              </li>
            )}
          </ul>
        </nav>
      </div>
      <DraftWatcher />
      <main className="content" id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
