import { useEffect, useId, useRef, useState, type FocusEvent, type KeyboardEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { FieldMeta, FieldValue } from "../api/models";
import { useRelationOption, useRelationTarget } from "../hooks/useRelations";
import { keyText, optionQueryKey, SEARCH_LIMIT, searchOptions, shownLabel, type RelationOption } from "../relations";

/** Typing pauses this long before the server is asked. */
export const SEARCH_DELAY_MS = 250;

/** What FieldInput gives every control: id, name, disabled, validity, focus reporting. */
export interface ControlProps {
  id?: string;
  name?: string;
  disabled?: boolean;
  required?: boolean;
  "aria-invalid"?: boolean;
  "aria-describedby"?: string;
  onFocus?: () => void;
  onBlur?: () => void;
}

interface Props {
  field: FieldMeta;
  /** The key held (as the record has it, or a filter's text); null for none. */
  value: FieldValue;
  onChange: (value: FieldValue) => void;
  common?: ControlProps;
  /** The accessible name when no <label> points at the control (a list filter). */
  ariaLabel?: string;
  placeholder?: string;
  /** Offer to clear the value (a filter; a field that is not required). */
  clearable: boolean;
}

/**
 * A searchable picker for a relation field, after the ARIA combobox pattern
 * (a text box with a listbox popup, "list autocomplete"): typing searches the
 * related resource on the server (`q`, or a filter on its display field), the
 * arrow keys move through the suggestions, Enter chooses, Escape closes and
 * puts the chosen record's name back. The value stays the key; what is shown
 * is the record's name, read by key (relations.ts), so a record far down
 * the related table is named like any other.
 *
 * The typed text is local until a record is chosen: a live change of the
 * value underneath (another editor) shows at once when the user is not typing,
 * and leaving the box without choosing keeps the value it had.
 */
export function RelationPicker({ field, value, onChange, common = {}, ariaLabel, placeholder, clearable }: Props) {
  const target = useRelationTarget(field);
  const current = useRelationOption(target, value);
  const queryClient = useQueryClient();
  const fallbackId = useId();
  const baseId = common.id ?? `picker-${fallbackId}`;
  const listId = `${baseId}-listbox`;
  const optionId = (index: number) => `${baseId}-option-${index}`;
  const wrapper = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);

  // null: not typing, the box shows the chosen record's name.
  const [typed, setTyped] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  // The text the server is asked about: what is typed, once typing pauses.
  const [query, setQuery] = useState("");
  // The highlighted suggestion, for one query's results; new results start at
  // their first entry when something is typed, at none when browsing.
  const [moved, setMoved] = useState<{ query: string; index: number } | null>(null);

  useEffect(() => {
    const text = typed ?? "";
    if (text === query) return;
    const timer = window.setTimeout(() => setQuery(text), SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [typed, query]);

  const search = useQuery({
    queryKey: ["relation-search", target?.resource, target?.display, query],
    enabled: open && Boolean(target),
    staleTime: 30_000,
    placeholderData: (previous) => previous,
    queryFn: async () => {
      const found = await searchOptions(target!, query);
      // Each suggestion is also the label of its key, should it be chosen.
      for (const option of found) queryClient.setQueryData(optionQueryKey(target!, option.id), option);
      return { query, options: found };
    },
  });
  const options: RelationOption[] = search.data?.options ?? [];
  const text = typed ?? "";
  // Suggestions for what the box shows (not an earlier text's, still on screen while the new ones load).
  const fresh = search.data?.query === text;
  const active = !fresh ? -1 : moved?.query === text ? Math.min(moved.index, options.length - 1) : text && options.length > 0 ? 0 : -1;

  useEffect(() => {
    if (!open || active < 0) return;
    document.getElementById(`${baseId}-option-${active}`)?.scrollIntoView?.({ block: "nearest" });
  }, [open, active, baseId]);

  const id = keyText(value);
  if (target === null) {
    // No picker without the related resource's meta (loading, or a key of several columns): the key as text.
    return (
      <input
        {...common}
        id={baseId}
        type={field.type === "integer" ? "number" : "text"}
        aria-label={ariaLabel}
        placeholder={placeholder}
        value={id}
        onChange={(e) => {
          const text = e.target.value;
          onChange(text === "" ? null : field.type === "integer" ? Number(text) : text);
        }}
      />
    );
  }

  const named = id === "" ? "" : current ? shownLabel(current) : current === null && target ? `#${id} (not found)` : `#${id}`;
  const shown = typed ?? named;

  function choose(option: RelationOption) {
    if (target) queryClient.setQueryData(optionQueryKey(target, option.id), option);
    setTyped(null);
    setOpen(false);
    setMoved(null);
    if (option.id !== id) onChange(option.value);
  }

  function close() {
    setTyped(null);
    setOpen(false);
    setMoved(null);
  }

  function move(by: number) {
    setOpen(true);
    // Earlier suggestions are not chosen from: ask about what is typed now.
    if (!open || !fresh) return setQuery(text);
    if (options.length === 0) return;
    const next = active < 0 ? (by > 0 ? 0 : options.length - 1) : (active + by + options.length) % options.length;
    setMoved({ query: text, index: next });
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (e.altKey) setOpen(e.key === "ArrowDown");
      else move(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Enter" && open) {
      // Never submits the form while the suggestions are open.
      e.preventDefault();
      if (active >= 0 && options[active]) choose(options[active]);
      else setQuery(text);
    } else if (e.key === "Escape" && (open || typed !== null)) {
      e.preventDefault();
      e.stopPropagation(); // a dialog around the picker stays open
      close();
    } else if (e.key === "Tab") {
      close();
    }
  }

  function onBlur(e: FocusEvent<HTMLDivElement>) {
    if (wrapper.current?.contains(e.relatedTarget as Node | null)) return;
    close();
    common.onBlur?.();
  }

  const label = ariaLabel ?? field.label;
  const status = !open
    ? ""
    : search.error && !search.isFetching
      ? `Could not search: ${search.error.message}`
      : !fresh
        ? "Searching…"
      : options.length === 0
        ? target?.search.kind === "none"
          ? "Type a key to find a record."
          : "No matching records."
        : `${options.length}${options.length >= SEARCH_LIMIT ? "+" : ""} suggestions`;

  return (
    <div className="combo" ref={wrapper} onBlur={onBlur}>
      <input
        {...common}
        onBlur={undefined}
        onFocus={(e) => {
          e.target.select();
          common.onFocus?.();
        }}
        ref={input}
        id={baseId}
        type="text"
        role="combobox"
        aria-label={ariaLabel}
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open && active >= 0 ? optionId(active) : undefined}
        autoComplete="off"
        spellCheck={false}
        placeholder={placeholder ?? "Type to search…"}
        value={shown}
        onClick={() => setOpen(true)}
        onChange={(e) => {
          setTyped(e.target.value);
          setMoved(null);
          setOpen(true);
        }}
        onKeyDown={onKeyDown}
      />
      {clearable && id !== "" && !common.disabled && (
        <button
          type="button"
          className="combo-clear"
          aria-label={`Clear ${label}`}
          title="Clear"
          onClick={() => {
            close();
            onChange(null);
            input.current?.focus();
          }}
        >
          ×
        </button>
      )}
      <ul
        id={listId}
        role="listbox"
        aria-label={`${label}: suggestions`}
        className={`combo-list${fresh ? "" : " stale"}`}
        aria-busy={!fresh}
        hidden={!open || options.length === 0}
      >
        {options.map((option, index) => (
          <li
            key={option.id}
            id={optionId(index)}
            role="option"
            aria-selected={index === active}
            className={option.id === id ? "chosen" : undefined}
            // Keeps the focus in the box: the blur would close the list before the click lands.
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => choose(option)}
          >
            <span>{shownLabel(option)}</span>
            <span className="muted">#{option.id}</span>
          </li>
        ))}
      </ul>
      {open && options.length === 0 && (
        <div className="combo-list combo-empty" aria-hidden="true">
          {status}
        </div>
      )}
      <p className="sr-only" role="status">
        {status}
      </p>
    </div>
  );
}
