// The import wizard against a fake import API: suggestions shown for the
// file's columns; the preview's errors under their cells with line numbers;
// a failed preview keeps the mapping the person chose; a corrected file keeps
// it too and is sent with the mapped header; a 409 at apply offers a new
// preview.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { api, ImportRefused, ProblemError } from "../../api/client";
import type { FieldMeta, ImportResult, ResourceMeta } from "../../api/models";
import { ImportPage } from "../../pages/ImportPage";
import { keyChoices } from "./mapping";
import { PreviewTable } from "./PreviewTable";
import { parseCsv } from "./csv";
import { readBytes } from "./importFile";

const textOf = async (body: unknown) => new TextDecoder().decode(await readBytes(body as Blob));

afterEach(cleanup);

const field = (name: string, label: string, over: Partial<FieldMeta> = {}): FieldMeta => ({
  name, label, type: "string", required: false, read_only: false, operators: ["eq"], ...over,
});
const courses: ResourceMeta = {
  name: "courses", label: "Course", label_plural: "Courses", pk: "id", display: "title", live: true,
  actions: ["view", "add", "change"], related: [], default_sort: ["title"], searchable: true, soft_delete: true,
  record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null,
  fields: [
    field("id", "Id", { read_only: true, type: "integer" }),
    field("title", "Title", { required: true }),
    field("short_name", "Short name", { required: true }),
    field("status", "Status", { choices: ["draft", "open", "closed"] }),
    field("start_date", "Start date", { type: "date" }),
  ],
};

const BAD = "id,Name,Code,status\r\n1,Sea Ice,sea-ice,open\r\n2,Glaciers,glaciers,maybe\r\n,Tundra,tundra,draft\r\n";
const FIXED = BAD.replace("maybe", "closed");

const previewOf = (rows: ImportResult["rows"], preview: number | null = 7): ImportResult => {
  const ok = rows.filter((r) => !r.errors?.length && !r.conflicts?.length);
  return {
    rows,
    preview,
    applied: false,
    summary: {
      insert: ok.filter((r) => r.op === "insert").length,
      update: ok.filter((r) => r.op === "update").length,
      unchanged: ok.filter((r) => r.op === "unchanged").length,
      invalid: rows.filter((r) => r.errors?.length).length,
      conflicts: rows.filter((r) => !r.errors?.length && r.conflicts?.length).length,
    },
  };
};
const withError = previewOf([
  { line: 2, op: "update", pk: "1", version: 3, errors: [] },
  { line: 3, op: "update", pk: "2", version: 1, errors: [{ field: "status", message: "Choose one of draft, open, closed." }] },
  { line: 4, op: "insert", errors: [] },
]);
const clean = previewOf([
  { line: 2, op: "update", pk: "1", version: 3, errors: [] },
  { line: 3, op: "update", pk: "2", version: 1, errors: [] },
  { line: 4, op: "insert", errors: [] },
]);

beforeEach(() => {
  vi.spyOn(api, "describe").mockResolvedValue(courses);
  vi.spyOn(api, "meta").mockResolvedValue({ resources: [courses], import_max_bytes: 4096 });
});

function renderWizard() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const router = createMemoryRouter(
    [
      { path: "/r/:resource/records/import", element: <ImportPage /> },
      { path: "/r/:resource", element: <p>The list</p> },
      { path: "/drafts", element: <p>The drafts</p> },
    ],
    { initialEntries: ["/r/courses/records/import"] },
  );
  render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return router;
}

async function upload(label: RegExp, text: string, name = "courses.csv") {
  const input = (await screen.findByLabelText(label)) as HTMLInputElement;
  fireEvent.change(input, { target: { files: [new File([text], name, { type: "text/csv" })] } });
}

const select = (header: string) => screen.getByLabelText(`Field for column ${header}`) as HTMLSelectElement;

describe("PreviewTable", () => {
  it("puts each error under its cell, with the line number, and counts the outcomes", () => {
    const table = parseCsv(BAD);
    render(
      <PreviewTable
        result={withError}
        records={new Map(table.records.map((r) => [r.line, r]))}
        columns={[
          { header: "Name", index: 1, field: "title", label: "Title" },
          { header: "status", index: 3, field: "status", label: "Status" },
        ]}
      />,
    );
    const line3 = screen.getByRole("row", { name: /^3/ });
    const cells = within(line3).getAllByRole("cell");
    expect(cells.map((c) => c.getAttribute("aria-invalid"))).toEqual([null, null, "true"]);
    // No line has a problem outside its cells: no column for them.
    expect(screen.queryByRole("columnheader", { name: "Problems" })).toBeNull();
    expect(cells[2].textContent).toBe("maybeLine 3, Status: Choose one of draft, open, closed.");
    expect(within(line3).getByText("error")).toBeTruthy();
    expect(within(screen.getByRole("row", { name: /^4/ })).getByText("new")).toBeTruthy();

    fireEvent.click(screen.getByLabelText(/Only lines with problems \(1\)/));
    expect(screen.getAllByRole("row")).toHaveLength(2); // the header and line 3
  });

  it("lists a line's problems that no cell holds, by the field's label", () => {
    const result = previewOf([
      { line: 2, op: "insert", errors: [{ field: "short_name", message: "This field is required." }] },
      { line: 3, op: "insert", errors: [{ field: "", message: "This line has 3 cells; the header has 4." }] },
    ]);
    render(
      <PreviewTable
        result={result}
        records={null}
        columns={[{ header: "Name", index: 1, field: "title", label: "Title" }]}
        labelOf={(name) => (name === "short_name" ? "Short name" : name)}
      />,
    );
    expect(screen.getByRole("columnheader", { name: "Problems" })).toBeTruthy();
    expect(screen.getByText("Line 2, Short name: This field is required.")).toBeTruthy();
    expect(screen.getByText("Line 3: This line has 3 cells; the header has 4.")).toBeTruthy();
  });

  it("shows a line changed since the preview with whose value is whose", () => {
    const refused = previewOf([
      {
        line: 2, op: "update", pk: "1", version: 3, errors: [],
        conflicts: [{ field: "title", base: "Sea ice", theirs: "Sea Ice (2027)", yours: "Sea Ice" }],
      },
    ]);
    render(<PreviewTable result={refused} records={null} columns={[{ header: "Name", index: 1, field: "title", label: "Title" }]} />);
    const cell = within(screen.getByRole("row", { name: /^2/ })).getAllByRole("cell")[1];
    expect(cell.getAttribute("aria-invalid")).toBe("true");
    expect(cell.textContent).toContain("now “Sea Ice (2027)” (was “Sea ice”, yours “Sea Ice”)");
  });
});

describe("ImportWizard", () => {
  it("says the size cap, and refuses a larger file without sending it", async () => {
    const importFile = vi.spyOn(api, "importFile");
    renderWizard();
    expect(await screen.findByText(/CSV or Excel \(\.xlsx\), up to 4\.0 KB\./)).toBeTruthy();
    await upload(/Choose a file/, `id,title\r\n${"1,x\r\n".repeat(1000)}`);
    expect((await screen.findByRole("alert")).textContent).toBe(
      "courses.csv is too largeIt is 4.9 KB; an import takes files up to 4.0 KB. Split it into smaller files.",
    );
    expect(importFile).not.toHaveBeenCalled();
  });

  it("tells a reader there is nothing to import", async () => {
    vi.spyOn(api, "describe").mockResolvedValue({ ...courses, actions: ["view"] });
    renderWizard();
    expect(await screen.findByText("You may not add or change courses, so there is nothing to import.")).toBeTruthy();
    expect(screen.queryByLabelText(/Choose a file/)).toBeNull();
  });

  it("offers the key and the fields unique alone to match lines by", () => {
    expect(keyChoices(courses)).toEqual([{ value: "", label: "Id" }]);
    const coded = { ...courses, fields: [...courses.fields, field("code", "Code", { unique: true })] };
    expect(keyChoices(coded)).toEqual([
      { value: "", label: "Id" },
      { value: "code", label: "Code" },
    ]);
    expect(keyChoices({ ...courses, pk: ["id", "title"] })[0]).toEqual({ value: "", label: "Id + Title" });
  });

  it("suggests fields, keeps the mapping after a failed preview, and sends the mapped header", async () => {
    const importFile = vi
      .spyOn(api, "importFile")
      .mockRejectedValueOnce(new ProblemError({ type: "", title: "Service Unavailable", status: 503, detail: "The database is unavailable." }))
      .mockResolvedValueOnce(withError);
    renderWizard();
    await upload(/Choose a file/, BAD);

    // Suggested: by name (id, status) and by label ("Name" is no label: left out).
    await screen.findByText(/choose the field each column fills/);
    expect(select("id").value).toBe("id");
    expect(select("Name").value).toBe("");
    expect(select("status").value).toBe("status");
    fireEvent.change(select("Name"), { target: { value: "title" } });
    fireEvent.change(select("Code"), { target: { value: "short_name" } });

    fireEvent.click(screen.getByRole("button", { name: "Preview the import" }));
    expect(await screen.findByRole("alert")).toHaveProperty("textContent", "The preview did not runThe database is unavailable.");
    // Still on the mapping, with the person's choices.
    expect(select("Name").value).toBe("title");
    expect(select("Code").value).toBe("short_name");

    fireEvent.click(screen.getByRole("button", { name: "Preview the import" }));
    await screen.findByTestId("import-summary");
    expect(screen.queryByRole("alert")).toBeNull();
    const [, body, type, options] = importFile.mock.calls[1];
    expect(type).toBe("text/csv");
    expect(options).toEqual({ dry_run: true });
    expect(await textOf(body)).toBe("id,title,short_name,status\r\n1,Sea Ice,sea-ice,open\r\n2,Glaciers,glaciers,maybe\r\n,Tundra,tundra,draft\r\n");
    expect(screen.getByText("Line 3, Status: Choose one of draft, open, closed.")).toBeTruthy();
    // No apply while a line is invalid.
    expect(screen.queryByRole("button", { name: /^Import/ })).toBeNull();
  });

  it("previews a corrected file with the same mapping, then applies it against the preview", async () => {
    const importFile = vi
      .spyOn(api, "importFile")
      .mockResolvedValueOnce(withError)
      .mockResolvedValueOnce(clean)
      .mockResolvedValueOnce(previewOf(clean.rows, null));
    const router = renderWizard();
    await upload(/Choose a file/, BAD);
    await screen.findByText(/choose the field each column fills/);
    fireEvent.change(select("Name"), { target: { value: "title" } });
    fireEvent.change(select("Code"), { target: { value: "short_name" } });
    fireEvent.click(screen.getByRole("button", { name: "Preview the import" }));
    await screen.findByText("Line 3, Status: Choose one of draft, open, closed.");

    await upload(/Upload the corrected file/, FIXED, "courses-fixed.csv");
    const apply = await screen.findByRole("button", { name: "Import 3 changes" });
    expect(await textOf(importFile.mock.calls[1][1])).toContain("id,title,short_name,status\r\n");
    expect(await textOf(importFile.mock.calls[1][1])).toContain("2,Glaciers,glaciers,closed");

    fireEvent.click(apply);
    expect(await screen.findByRole("heading", { name: "Imported" })).toBeTruthy();
    expect(importFile.mock.calls[2][3]).toEqual({ dry_run: false, preview: 7 });
    fireEvent.click(screen.getByRole("link", { name: "Open the courses list" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/r/courses"));
  });

  it("stages the lines as drafts for review and links to their batch", async () => {
    const importFile = vi
      .spyOn(api, "importFile")
      .mockResolvedValueOnce(clean)
      .mockResolvedValueOnce({ ...previewOf(clean.rows, null), batch: 12 });
    const router = renderWizard();
    await upload(/Choose a file/, FIXED);
    await screen.findByText(/choose the field each column fills/);
    fireEvent.change(select("Name"), { target: { value: "title" } });
    fireEvent.click(screen.getByRole("button", { name: "Preview the import" }));
    fireEvent.click(await screen.findByRole("button", { name: "Stage as drafts for review" }));
    expect(await screen.findByRole("heading", { name: "Staged as drafts for review" })).toBeTruthy();
    expect(importFile.mock.calls[1][3]).toEqual({ dry_run: false, preview: 7, as: "drafts" });
    fireEvent.click(screen.getByRole("link", { name: "Review the drafts" }));
    await waitFor(() => expect(router.state.location.search).toBe("?batch=12"));
  });

  it("shows the lines changed since the preview and previews again", async () => {
    const conflict = previewOf([
      { line: 2, op: "update", pk: "1", version: 4, errors: [], conflicts: [{ field: "title", base: "Sea ice", theirs: "Polar", yours: "Sea Ice" }] },
    ]);
    const importFile = vi
      .spyOn(api, "importFile")
      .mockResolvedValueOnce(clean)
      .mockRejectedValueOnce(new ImportRefused({ type: "", title: "Conflict", status: 409, detail: "1 line changed since the preview." }, conflict))
      .mockResolvedValueOnce(clean);
    renderWizard();
    await upload(/Choose a file/, FIXED);
    await screen.findByText(/choose the field each column fills/);
    fireEvent.change(select("Name"), { target: { value: "title" } });
    fireEvent.click(screen.getByRole("button", { name: "Preview the import" }));
    fireEvent.click(await screen.findByRole("button", { name: "Import 3 changes" }));

    expect((await screen.findByRole("alert")).textContent).toContain("some records changed since your preview");
    expect(screen.getByText(/now “Polar”/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Preview again" }));
    expect(await screen.findByRole("button", { name: "Import 3 changes" })).toBeTruthy();
    expect(importFile).toHaveBeenCalledTimes(3);
    expect(importFile.mock.calls[2][3]).toEqual({ dry_run: true });
  });
});
