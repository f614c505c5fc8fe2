// The records a person opened lately, newest first, kept in this browser
// (localStorage, per user): the dashboard's "Recently opened". Nothing here
// is sent to the server, and a record the person may no longer see simply
// answers 404 when followed.
import { useCallback, useEffect, useSyncExternalStore } from "react";

export interface RecentRecord {
  resource: string;
  pk: string;
  name: string;
  /** ISO time it was last opened. */
  at: string;
}

export const RECENT_MAX = 12;
const listeners = new Set<() => void>();

function storageKey(userId: number): string {
  return `collabadmin:recent:${userId}`;
}

/** The list stored for a user; anything unreadable there counts as nothing. */
export function readRecent(userId: number): RecentRecord[] {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(storageKey(userId)) ?? "[]");
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter(
        (r): r is RecentRecord =>
          typeof r === "object" &&
          r !== null &&
          typeof r.resource === "string" &&
          typeof r.pk === "string" &&
          typeof r.name === "string" &&
          typeof r.at === "string",
      )
      .slice(0, RECENT_MAX);
  } catch {
    return [];
  }
}

/** `list` with `record` first (once), at most RECENT_MAX long. */
export function withRecent(list: RecentRecord[], record: RecentRecord): RecentRecord[] {
  const rest = list.filter((r) => !(r.resource === record.resource && r.pk === record.pk));
  return [record, ...rest].slice(0, RECENT_MAX);
}

export function rememberRecord(userId: number, record: Omit<RecentRecord, "at">, at = new Date()): void {
  const next = withRecent(readRecent(userId), { ...record, at: at.toISOString() });
  try {
    window.localStorage.setItem(storageKey(userId), JSON.stringify(next));
  } catch {
    return; // storage full or refused: the list is a convenience
  }
  cache.delete(userId);
  listeners.forEach((notify) => notify());
}

/** Records the opened record once its name is known (and again when it is renamed). */
export function useRememberRecord(userId: number, resource: string, pk: string, name: string | undefined): void {
  useEffect(() => {
    if (name) rememberRecord(userId, { resource, pk, name });
  }, [userId, resource, pk, name]);
}

// Snapshots by user, so useSyncExternalStore sees the same array until it changes.
const cache = new Map<number, RecentRecord[]>();

/** The user's recently opened records, following changes made here and in other tabs. */
export function useRecentRecords(userId: number): RecentRecord[] {
  const subscribe = useCallback((notify: () => void) => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === storageKey(userId)) {
        cache.delete(userId);
        notify();
      }
    };
    listeners.add(notify);
    window.addEventListener("storage", onStorage);
    return () => {
      listeners.delete(notify);
      window.removeEventListener("storage", onStorage);
    };
  }, [userId]);
  const snapshot = useCallback(() => {
    let list = cache.get(userId);
    if (!list) {
      list = readRecent(userId);
      cache.set(userId, list);
    }
    return list;
  }, [userId]);
  return useSyncExternalStore(subscribe, snapshot);
}
