import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { DraftItems } from "./DraftTable";

export const OPEN_STATUSES = "draft,submitted,approved,rejected";

/** The record's drafts that are not published or discarded yet (kept current by the drafts topic). */
export function RecordDrafts({ resource, pk }: { resource: string; pk: string }) {
  const drafts = useQuery({
    queryKey: ["drafts", "record", resource, pk],
    queryFn: () => api.drafts({ resource, pk, status: OPEN_STATUSES }),
  });
  return (
    <section className="panel" aria-labelledby="record-drafts-title" data-testid="record-drafts">
      <h2 id="record-drafts-title">Open drafts</h2>
      {drafts.error ? (
        <p className="error">{drafts.error.message}</p>
      ) : (
        <DraftItems drafts={drafts.data?.items} empty="No open drafts of this record." />
      )}
    </section>
  );
}
