import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../../api/client";
import type { ViewConfig } from "../../api/models";
import { useSession } from "../../auth";
import { useToast } from "../../toasts";
import { reasonOf } from "../FormProblems";

interface Props {
  resource: string;
  config: ViewConfig;
  onApply: (config: ViewConfig) => void;
  /** The user may create shared views (the resource meta's `share_view` action). */
  mayShare: boolean;
}

/** Named views shared with everyone: pick one, share the current one, remove your own. */
export function ViewsMenu({ resource, config, onApply, mayShare }: Props) {
  const { user } = useSession();
  const toast = useToast();
  const queryClient = useQueryClient();
  const views = useQuery({ queryKey: ["views", resource], queryFn: () => api.sharedViews(resource) });
  const [chosen, setChosen] = useState("");
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const selected = views.data?.items.find((v) => String(v.id) === chosen);

  async function share() {
    setError(null);
    try {
      const view = await api.shareView(resource, name.trim(), config);
      await queryClient.invalidateQueries({ queryKey: ["views", resource] });
      setChosen(String(view.id));
      setNaming(false);
      setName("");
      toast(`Shared the view “${view.name}”.`, { tone: "success" });
    } catch (e) {
      setError(e instanceof ProblemError ? e.problem.errors?.map((x) => x.message).join(" ") || e.problem.detail : reasonOf(e));
    }
  }

  async function remove() {
    if (!selected) return;
    try {
      await api.deleteSharedView(resource, selected.id);
      setChosen("");
      await queryClient.invalidateQueries({ queryKey: ["views", resource] });
      toast(`Deleted the view “${selected.name}”.`);
    } catch (e) {
      toast(e instanceof ProblemError ? e.problem.detail : String(e), { tone: "error" });
    }
  }

  return (
    <div className="views">
      <select
        aria-label="Shared view"
        value={chosen}
        onChange={(e) => {
          setChosen(e.target.value);
          const view = views.data?.items.find((v) => String(v.id) === e.target.value);
          if (view) onApply({ columns: view.columns, sort: view.sort, filters: view.filters });
        }}
      >
        <option value="">{views.data?.items.length ? "Shared views…" : "No shared views"}</option>
        {views.data?.items.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
            {v.created_by ? ` (${v.created_by.name})` : ""}
          </option>
        ))}
      </select>
      {selected && selected.created_by?.id === user.id && (
        <button type="button" className="secondary" onClick={() => void remove()}>
          Delete view
        </button>
      )}
      {naming ? (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void share();
          }}
        >
          <input aria-label="View name" placeholder="View name" maxLength={80} value={name} onChange={(e) => setName(e.target.value)} autoFocus />
          <button type="submit" disabled={!name.trim()}>
            Share
          </button>
          <button type="button" className="secondary" onClick={() => setNaming(false)}>
            Cancel
          </button>
          {error && <span className="error">{error}</span>}
        </form>
      ) : (
        mayShare && (
          <button type="button" className="secondary" onClick={() => setNaming(true)}>
            Save as view…
          </button>
        )
      )}
    </div>
  );
}
