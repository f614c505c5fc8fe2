// Reordering and resizing a list's columns from its header: drag a header onto
// another to move it there, drag a header's right edge (or focus it and press
// ←/→) to set its width. Both change the user's list settings, as the
// Columns… dialog does (its ↑/↓ buttons stay, for keyboards and phones).
import { useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import type { ColumnPref } from "../../api/models";

export const MIN_WIDTH = 60;
export const MAX_WIDTH = 800;
/** How far one ←/→ press moves a column's edge (px). */
export const WIDTH_STEP = 16;

/** `columns` with `field` moved to where `before` is (after it when moving right). */
export function moveColumn(columns: ColumnPref[], field: string, before: string): ColumnPref[] {
  const from = columns.findIndex((c) => c.field === field);
  const to = columns.findIndex((c) => c.field === before);
  if (from < 0 || to < 0 || from === to) return columns;
  const next = [...columns];
  const [moved] = next.splice(from, 1);
  next.splice(to, 0, moved);
  return next;
}

export function clampWidth(width: number): number {
  return Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, width)));
}

/** `columns` with `field`'s width set (clamped). */
export function resizeColumn(columns: ColumnPref[], field: string, width: number): ColumnPref[] {
  return columns.map((c) => (c.field === field ? { ...c, width: clampWidth(width) } : c));
}

export type ColumnsChange = (change: (columns: ColumnPref[]) => ColumnPref[]) => void;

/**
 * The header's drag state: which column is being dragged (to mark drop
 * targets), and a width being dragged, shown at once and saved on release.
 */
export function useColumnLayout(onColumns: ColumnsChange | undefined) {
  const [dragging, setDragging] = useState<string | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const [sizing, setSizing] = useState<{ field: string; width: number } | null>(null);
  const start = useRef<{ x: number; width: number } | null>(null);

  function headerProps(field: string) {
    if (!onColumns) return {};
    return {
      draggable: true,
      onDragStart: (e: React.DragEvent) => {
        e.dataTransfer.effectAllowed = "move";
        e.dataTransfer.setData("text/x-collabadmin-column", field);
        setDragging(field);
      },
      onDragOver: (e: React.DragEvent) => {
        if (!dragging || dragging === field) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "move";
        setOver(field);
      },
      onDragLeave: () => setOver((current) => (current === field ? null : current)),
      onDrop: (e: React.DragEvent) => {
        e.preventDefault();
        const moved = e.dataTransfer.getData("text/x-collabadmin-column") || dragging;
        if (moved && moved !== field) onColumns((columns) => moveColumn(columns, moved, field));
        setDragging(null);
        setOver(null);
      },
      onDragEnd: () => {
        setDragging(null);
        setOver(null);
      },
      "data-drop-target": over === field ? "true" : undefined,
    };
  }

  function handleProps(field: string, label: string, width: number | undefined) {
    const measure = (e: { currentTarget: Element }) =>
      width ?? e.currentTarget.closest("th")?.getBoundingClientRect().width ?? 160;
    return {
      role: "separator",
      "aria-orientation": "vertical" as const,
      "aria-label": `Width of ${label}`,
      "aria-valuenow": sizing?.field === field ? sizing.width : width,
      "aria-valuemin": MIN_WIDTH,
      "aria-valuemax": MAX_WIDTH,
      tabIndex: 0,
      className: "col-resize",
      // The header is draggable (to move the column): resizing must not start a move.
      draggable: true,
      onDragStart: (e: React.DragEvent) => {
        e.preventDefault();
        e.stopPropagation();
      },
      onPointerDown: (e: PointerEvent<HTMLSpanElement>) => {
        e.preventDefault();
        e.stopPropagation();
        e.currentTarget.setPointerCapture(e.pointerId);
        start.current = { x: e.clientX, width: measure(e) };
        setSizing({ field, width: clampWidth(start.current.width) });
      },
      onPointerMove: (e: PointerEvent<HTMLSpanElement>) => {
        if (!start.current) return;
        setSizing({ field, width: clampWidth(start.current.width + e.clientX - start.current.x) });
      },
      onPointerUp: (e: PointerEvent<HTMLSpanElement>) => {
        if (!start.current || !onColumns) return;
        const next = clampWidth(start.current.width + e.clientX - start.current.x);
        start.current = null;
        setSizing(null);
        onColumns((columns) => resizeColumn(columns, field, next));
      },
      onKeyDown: (e: KeyboardEvent<HTMLSpanElement>) => {
        if ((e.key !== "ArrowLeft" && e.key !== "ArrowRight") || !onColumns) return;
        e.preventDefault();
        const step = e.key === "ArrowRight" ? WIDTH_STEP : -WIDTH_STEP;
        const next = clampWidth(measure(e) + step);
        onColumns((columns) => resizeColumn(columns, field, next));
      },
      onClick: (e: React.MouseEvent) => e.stopPropagation(),
    };
  }

  /** The width to show now: one being dragged, else the saved one. */
  function widthOf(field: string, saved: number | undefined): number | undefined {
    return sizing?.field === field ? sizing.width : saved;
  }

  return { dragging, headerProps, handleProps, widthOf };
}
