import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { ShortcutsHelp, useShortcuts, type Shortcut } from "./Shortcuts";

const SHORTCUTS: Shortcut[] = [
  { keys: ["g", "d"], label: "Drafts", to: "/drafts" },
  { keys: ["g", "1"], label: "Courses", to: "/r/courses" },
];

function Where() {
  return <output data-testid="where">{useLocation().pathname}</output>;
}

function Page() {
  const { helpOpen, closeHelp } = useShortcuts(SHORTCUTS);
  return (
    <main>
      <input type="search" aria-label="Search" />
      <textarea aria-label="Notes" />
      <Where />
      {helpOpen && <ShortcutsHelp shortcuts={SHORTCUTS} onClose={closeHelp} />}
    </main>
  );
}

function setup() {
  const user = userEvent.setup();
  render(
    <MemoryRouter initialEntries={["/"]}>
      <Routes>
        <Route path="*" element={<Page />} />
      </Routes>
    </MemoryRouter>,
  );
  return user;
}

afterEach(cleanup);

describe("keyboard shortcuts", () => {
  it("goes to a page with g then a key", async () => {
    const user = setup();
    await user.keyboard("gd");
    expect(screen.getByTestId("where").textContent).toBe("/drafts");
    await user.keyboard("g1");
    expect(screen.getByTestId("where").textContent).toBe("/r/courses");
  });

  it("never takes keys typed into a field", async () => {
    const user = setup();
    await user.click(screen.getByLabelText("Notes"));
    await user.keyboard("gd?/");
    expect(screen.getByTestId("where").textContent).toBe("/");
    expect((screen.getByLabelText("Notes") as HTMLTextAreaElement).value).toBe("gd?/");
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("lists them on ? and closes on Escape; / focuses the search", async () => {
    const user = setup();
    await user.keyboard("?");
    const dialog = screen.getByRole("dialog", { name: "Keyboard shortcuts" });
    expect(dialog.textContent).toContain("Drafts");
    expect(dialog.textContent).toContain("Search this list");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    await user.keyboard("/");
    expect(document.activeElement).toBe(screen.getByLabelText("Search"));
  });
});
