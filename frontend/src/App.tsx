import { useCallback, useEffect, useState } from "react";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "./api/client";
import type { User } from "./api/models";
import { SessionContext } from "./auth";
import { live } from "./live";
import { Layout } from "./components/Layout";
import { AuditPage } from "./pages/AuditPage";
import { Dashboard } from "./pages/Dashboard";
import { DraftPage } from "./pages/DraftPage";
import { NewDraftPage } from "./pages/NewDraftPage";
import { NewRecordPage } from "./pages/NewRecordPage";
import { DraftsPage } from "./pages/DraftsPage";
import { LoginPage } from "./pages/Login";
import { RecordPage } from "./pages/RecordPage";
import { ResourceList } from "./pages/ResourceList";
import { WorkflowRunPage } from "./pages/WorkflowRunPage";
import { WorkflowRunsPage } from "./pages/WorkflowRunsPage";
import { usePageTitle } from "./pageTitle";

type AuthState = { status: "loading" } | { status: "anonymous" } | { status: "signed-in"; user: User };

export function App() {
  const [auth, setAuth] = useState<AuthState>({ status: "loading" });
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();

  useEffect(() => {
    api
      .me()
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
        <Routes>
          <Route path="/" element={<Dashboard />} />
          <Route path="/login" element={<Navigate to={returnTo ?? "/"} replace />} />
          <Route path="/r/:resource" element={<ResourceList />} />
          <Route path="/r/:resource/:pk" element={<RecordPage />} />
          <Route path="/r/:resource/drafts/new" element={<NewDraftPage />} />
          <Route path="/r/:resource/records/new" element={<NewRecordPage />} />
          <Route path="/audit" element={<AuditPage />} />
          <Route path="/drafts" element={<DraftsPage />} />
          <Route path="/drafts/:id" element={<DraftPage />} />
          <Route path="/workflow-runs" element={<WorkflowRunsPage />} />
          <Route path="/workflow-runs/:id" element={<WorkflowRunPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Layout>
    </SessionContext.Provider>
  );
}

function NotFound() {
  usePageTitle("Not found");
  return <p className="empty">There is no page here.</p>;
}
