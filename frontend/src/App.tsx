import { useCallback, useEffect, useState } from "react";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "./api/client";
import type { User } from "./api/models";
import { SessionContext } from "./auth";
import { live } from "./live";
import { me } from "./startup";
import { Layout } from "./components/Layout";
import { lazyPage, PageSuspense } from "./lazyPage";
import { LoginPage } from "./pages/Login";
import { ResourceList } from "./pages/ResourceList";
import * as chunks from "./pageChunks";
import { usePageTitle } from "./pageTitle";

// The lists are in the first script (most visits start there); every other
// page is a chunk of its own, loaded when first shown (pageChunks.ts). The
// sign-in form is small and is what a signed-out visitor needs first: it stays.
const Dashboard = lazyPage(chunks.loadDashboard);
const RecordPage = lazyPage(chunks.loadRecordPage);
const AuditPage = lazyPage(chunks.loadAuditPage);
const DraftPage = lazyPage(chunks.loadDraftPage);
const DraftsPage = lazyPage(chunks.loadDraftsPage);
const ImportPage = lazyPage(chunks.loadImportPage);
const NewDraftPage = lazyPage(chunks.loadNewDraftPage);
const NewRecordPage = lazyPage(chunks.loadNewRecordPage);
const WorkflowRunPage = lazyPage(chunks.loadWorkflowRunPage);
const WorkflowRunsPage = lazyPage(chunks.loadWorkflowRunsPage);

type AuthState = { status: "loading" } | { status: "anonymous" } | { status: "signed-in"; user: User };

export function App() {
  const [auth, setAuth] = useState<AuthState>({ status: "loading" });
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();

  useEffect(() => {
    me()
      .then(({ user }) => setAuth({ status: "signed-in", user }))
      .catch((error: unknown) => {
        if (error instanceof ProblemError && error.status === 401) setAuth({ status: "anonymous" });
        else setAuth({ status: "anonymous" });
      });
  }, []);

  const signOut = useCallback(async () => {
    await api.logout().catch(() => undefined);
    queryClient.clear();
    setAuth({ status: "anonymous" });
    navigate("/login");
  }, [navigate, queryClient]);

  // Where a signed-out visitor was going (its address and query: a shared list link), kept through sign-in.
  const from = (location.state as { from?: string } | null)?.from;
  const returnTo = from && !from.startsWith("/login") ? from : undefined;

  if (auth.status === "loading") {
    return <p className="centered" role="status">Loading…</p>;
  }
  if (auth.status === "anonymous") {
    return (
      <Routes>
        <Route
          path="/login"
          element={
            <LoginPage
              onSignedIn={(user) => {
                // The signed-in routes then send /login on to where the user was going.
                setAuth({ status: "signed-in", user });
                live.restart();
              }}
            />
          }
        />
        <Route path="*" element={<Navigate to="/login" replace state={{ from: location.pathname + location.search }} />} />
      </Routes>
    );
  }
  return (
    <SessionContext.Provider value={{ user: auth.user, signOut }}>
      <Layout>
        <PageSuspense page={location.pathname}>
          <Routes>
            <Route path="/" element={<Dashboard />} />
            <Route path="/login" element={<Navigate to={returnTo ?? "/"} replace />} />
            <Route path="/r/:resource" element={<ResourceList />} />
            <Route path="/r/:resource/:pk" element={<RecordPage />} />
            <Route path="/r/:resource/drafts/new" element={<NewDraftPage />} />
            <Route path="/r/:resource/records/new" element={<NewRecordPage />} />
            <Route path="/r/:resource/records/import" element={<ImportPage />} />
            <Route path="/audit" element={<AuditPage />} />
            <Route path="/drafts" element={<DraftsPage />} />
            <Route path="/drafts/:id" element={<DraftPage />} />
            <Route path="/workflow-runs" element={<WorkflowRunsPage />} />
            <Route path="/workflow-runs/:id" element={<WorkflowRunPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </PageSuspense>
      </Layout>
    </SessionContext.Provider>
  );
}

function NotFound() {
  usePageTitle("Not found");
  return <p className="empty">There is no page here.</p>;
}
