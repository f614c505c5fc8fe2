import { useState, type ReactNode } from "react";
import { NavLink, useLocation } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { useSession } from "../auth";
import { useTheme } from "../theme";
import { usePhone } from "../hooks/useMediaQuery";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { useModalFocus } from "./Dialog";
import { DraftWatcher } from "./drafts/DraftWatcher";
import { ShortcutsHelp, useShortcuts, type Shortcut } from "./Shortcuts";

export function Layout({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const [theme, toggleTheme] = useTheme();
  const mayAudit = meta.data?.resources.some((r) => r.actions.includes("audit")) ?? false;
  const mayReview = meta.data?.resources.some((r) => r.actions.includes("publish")) ?? false;
  // The review queue is the drafts list filtered to `submitted`: one of the two links is current.
  const location = useLocation();
  const inQueue = location.pathname === "/drafts" && new URLSearchParams(location.search).get("status") === "submitted";
  // On a phone the navigation is a drawer. It is open for the page it was opened on:
  // following one of its links (a new location) closes it, with no effect to run.
  const phone = usePhone();
  const [openOn, setOpenOn] = useState<string | null>(null);
  const drawerOpen = phone && openOn === location.key;
  const shortcuts: Shortcut[] = [
    { keys: ["g", "h"], label: "Dashboard", to: "/" },
    ...(meta.data?.resources.slice(0, 9).map((r, i) => ({ keys: ["g", String(i + 1)], label: r.label_plural, to: `/r/${r.name}` })) ?? []),
    { keys: ["g", "d"], label: "Drafts", to: "/drafts" },
    ...(mayReview ? [{ keys: ["g", "r"], label: "Review queue", to: "/drafts?status=submitted" }] : []),
    { keys: ["g", "c"], label: "Checklists", to: "/workflow-runs" },
    ...(mayAudit ? [{ keys: ["g", "a"], label: "Audit log", to: "/audit" }] : []),
  ];
  const { helpOpen, closeHelp } = useShortcuts(shortcuts);
  const navigation = (
    <>
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
    </>
  );
  return (
    <div className="shell">
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="topbar">
        {phone && (
          <button
            type="button"
            className="secondary icon menu-button"
            aria-label="Open navigation"
            aria-expanded={drawerOpen}
            aria-controls="drawer"
            onClick={() => setOpenOn(location.key)}
          >
            <span aria-hidden="true">☰</span>
          </button>
        )}
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
      {!phone && <div className="sidebar">{navigation}</div>}
      {drawerOpen && <Drawer onClose={() => setOpenOn(null)}>{navigation}</Drawer>}
      {helpOpen && <ShortcutsHelp shortcuts={shortcuts} onClose={closeHelp} />}
      <DraftWatcher />
      <main className="content" id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

/** The phone's navigation: a panel from the left over a backdrop, modal while open. */
function Drawer({ onClose, children }: { onClose: () => void; children: ReactNode }) {
  const { ref, onKeyDown } = useModalFocus<HTMLDivElement>(onClose);
  return (
    <div className="drawer-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} id="drawer" className="drawer sidebar" role="dialog" aria-modal="true" aria-label="Navigation" onKeyDown={onKeyDown}>
        <div className="drawer-head">
          <strong>collabadmin</strong>
          <button type="button" className="secondary icon" aria-label="Close navigation" onClick={onClose}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
