// The create form against a fake records API: the server's 422 shows under
// its fields and keeps every value; a text too long is said, not cut; success
// opens the new record.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { api, ProblemError } from "../api/client";
import type { FieldMeta, RecordBody, ResourceMeta } from "../api/models";
import { NewRecordPage } from "./NewRecordPage";

afterEach(cleanup);

const text = (name: string, label: string, over: Partial<FieldMeta> = {}): FieldMeta => ({
  name, type: "string", label, required: false, read_only: false, operators: ["eq", "icontains"], ...over,
});
const courses: ResourceMeta = {
  name: "courses", label: "Course", label_plural: "Courses", pk: "id", display: "title", live: true,
  actions: ["view", "add", "change"], related: [], default_sort: ["title"], searchable: true, soft_delete: true, record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null,
  fields: [
    { name: "id", type: "integer", label: "Id", required: false, read_only: true, operators: ["eq"] },
    text("title", "Title", { required: true, max_length: 200 }),
    text("short_name", "Short name", { required: true, max_length: 20, pattern: "^[a-z0-9.-]+$", read_only_after_create: true }),
    text("status", "Status", { choices: ["draft", "open", "closed"] }),
  ],
};

beforeEach(() => {
  vi.spyOn(api, "describe").mockResolvedValue(courses);
});

function renderPage() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const router = createMemoryRouter(
    [
      { path: "/r/:resource/records/new", element: <NewRecordPage /> },
      { path: "/r/:resource/:pk", element: <p>Record page</p> },
    ],
    { initialEntries: ["/r/courses/records/new"] },
  );
  render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return router;
}

describe("NewRecordPage", () => {
  it("shows the server's 422 under its field, keeps the values, then opens the new record", async () => {
    const create = vi
      .spyOn(api, "create")
      .mockRejectedValueOnce(
        new ProblemError({
          type: "", title: "Validation failed", status: 422, detail: "short_name: Use lower-case letters…",
          errors: [{ field: "short_name", message: "Use lower-case letters, digits, dots and hyphens only, such as cs-101." }],
        }),
      )
      .mockResolvedValueOnce({ id: 61, title: "Sea Ice", short_name: "sea-ice", status: "draft", _version: 1, _deleted_at: null } as RecordBody);
    const router = renderPage();
    fireEvent.change(await screen.findByLabelText(/^Title/), { target: { value: "Sea Ice" } });
    const shortName = screen.getByLabelText(/^Short name/) as HTMLInputElement;
    fireEvent.change(shortName, { target: { value: "Sea Ice" } });
    fireEvent.click(screen.getByRole("button", { name: "Create course" }));

    expect(await screen.findByText("Use lower-case letters, digits, dots and hyphens only, such as cs-101.")).toBeTruthy();
    expect(create).toHaveBeenCalledWith("courses", { title: "Sea Ice", short_name: "Sea Ice" });
    expect(shortName.value).toBe("Sea Ice");
    expect((screen.getByLabelText(/^Title/) as HTMLInputElement).value).toBe("Sea Ice");
    expect(shortName.getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(document.activeElement).toBe(shortName));
    expect(screen.getByText("Not created: one field needs attention.")).toBeTruthy();

    // Typing clears the message about the old value; the corrected form is created.
    fireEvent.change(shortName, { target: { value: "sea-ice" } });
    expect(screen.queryByText(/Use lower-case letters/)).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Create course" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/r/courses/61"));
  });

  it("does not send a text longer than its field allows, and says by how much", async () => {
    const create = vi.spyOn(api, "create");
    renderPage();
    fireEvent.change(await screen.findByLabelText(/^Title/), { target: { value: "Sea Ice" } });
    fireEvent.change(screen.getByLabelText(/^Short name/), { target: { value: "sea-ice-physics-for-beginners" } });
    expect(screen.getByText("At most 20 characters: this is 29, 9 too many (nothing was cut).")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Create course" }));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText(/^Short name/)));
    expect(create).not.toHaveBeenCalled();
  });

  it("keeps the values and offers Retry when the server cannot be reached", async () => {
    const create = vi.spyOn(api, "create").mockRejectedValueOnce(new TypeError("Failed to fetch"));
    renderPage();
    fireEvent.change(await screen.findByLabelText(/^Title/), { target: { value: "Sea Ice" } });
    fireEvent.click(screen.getByRole("button", { name: "Create course" }));
    expect((await screen.findByTestId("not-saved")).textContent).toMatch(/could not be reached/);
    expect((screen.getByLabelText(/^Title/) as HTMLInputElement).value).toBe("Sea Ice");
    create.mockResolvedValueOnce({ id: 62, title: "Sea Ice", _version: 1, _deleted_at: null });
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(create).toHaveBeenCalledTimes(2));
  });
});
