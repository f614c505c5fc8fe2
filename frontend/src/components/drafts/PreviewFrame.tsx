// A resource's own public page (its `preview_url`, same origin) in an iframe,
// handed a record to render with postMessage. The page says
// {type: "collabadmin:preview-ready"} once it listens; the record is posted
// then, on every load, and whenever it changes.
import { useCallback, useEffect, useLayoutEffect, useRef } from "react";
import type { RecordBody } from "../../api/models";

export function PreviewFrame({ url, record, title }: { url: string; record: RecordBody; title: string }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const latest = useRef(record);
  useLayoutEffect(() => {
    latest.current = record;
  });

  const post = useCallback(() => {
    frame.current?.contentWindow?.postMessage(
      { type: "collabadmin:preview", record: latest.current },
      window.location.origin,
    );
  }, []);

  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      if (event.origin !== window.location.origin || event.source !== frame.current?.contentWindow) return;
      const data = event.data as { type?: string } | null;
      if (data?.type === "collabadmin:preview-ready") post();
    };
    window.addEventListener("message", onMessage);
    return () => window.removeEventListener("message", onMessage);
  }, [post]);

  useEffect(post, [record, post]);

  return <iframe ref={frame} className="preview-frame" src={url} title={title} onLoad={post} />;
}
