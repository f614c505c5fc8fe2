import { useEffect, useLayoutEffect, useRef, useState, type InputHTMLAttributes } from "react";

/** Typing pauses this long before a filter or search is applied. */
export const TYPING_DELAY_MS = 300;

type Props = { value: string; onCommit: (value: string) => void; delay?: number } & Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "value" | "onChange"
>;

/**
 * A text box that reports its (trimmed) value once typing pauses, or at once
 * on Enter. What is typed is local until then; a new value from outside (a
 * view applied, Back to another list state) replaces it. The timer only
 * depends on the text, not on the parent re-rendering (live rows do, often).
 */
export function DebouncedInput({ value, onCommit, delay = TYPING_DELAY_MS, onKeyDown, ...rest }: Props) {
  const [text, setText] = useState(value);
  const [outside, setOutside] = useState(value);
  if (outside !== value) {
    setOutside(value);
    setText(value);
  }
  const commit = useRef(onCommit);
  useLayoutEffect(() => {
    commit.current = onCommit;
  });
  useEffect(() => {
    if (text.trim() === value) return;
    const timer = window.setTimeout(() => commit.current(text.trim()), delay);
    return () => window.clearTimeout(timer);
  }, [text, value, delay]);
  return (
    <input
      {...rest}
      value={text}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter" && text.trim() !== value) commit.current(text.trim());
        onKeyDown?.(e);
      }}
    />
  );
}
