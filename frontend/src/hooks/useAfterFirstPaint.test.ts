import { describe, expect, it } from "vitest";
import { renderHook, waitFor } from "@testing-library/react";
import { useAfterFirstPaint } from "./useAfterFirstPaint";

describe("useAfterFirstPaint", () => {
  it("turns true a frame after the content is ready, and stays true", async () => {
    const { result, rerender } = renderHook(({ ready }) => useAfterFirstPaint(ready), { initialProps: { ready: false } });
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
    expect(result.current).toBe(false); // not ready: nothing painted to wait for
    rerender({ ready: true });
    expect(result.current).toBe(false); // the render that shows the content
    await waitFor(() => expect(result.current).toBe(true));
    rerender({ ready: false });
    expect(result.current).toBe(true);
  });
});
