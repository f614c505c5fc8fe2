import type { PresenceUser } from "../../live";

const SHOWN = 3;

function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] ?? "?").slice(0, 2);
  return letters.toUpperCase();
}

function describe(u: PresenceUser): string {
  return u.state === "editing" ? `${u.name} (editing)` : u.name;
}

/** The people on one row of a list, as overlapping initials; their names in the tooltip and label. */
export function PresenceStack({ users }: { users: PresenceUser[] }) {
  if (users.length === 0) return null;
  const label = `Also here: ${users.map(describe).join(", ")}`;
  const extra = users.length - SHOWN;
  return (
    <span className="avatar-stack" role="img" aria-label={label} title={label} data-testid="row-presence">
      {users.slice(0, SHOWN).map((u) => (
        <span key={`${u.id}-${u.name}`} className={`avatar-dot${u.state === "editing" ? " editing" : ""}`} aria-hidden="true">
          {initials(u.name)}
        </span>
      ))}
      {extra > 0 && (
        <span className="avatar-dot more" aria-hidden="true">
          +{extra}
        </span>
      )}
    </span>
  );
}
