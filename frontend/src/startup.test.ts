import { describe, expect, it } from "vitest";
import { pageOf } from "./startup";

describe("pageOf", () => {
  it("names the list or the record an address opens, its key decoded as the router does", () => {
    expect(pageOf("/r/courses")).toEqual({ resource: "courses" });
    expect(pageOf("/r/courses/42")).toEqual({ resource: "courses", pk: "42" });
    expect(pageOf("/r/film_actor/1%2C23")).toEqual({ resource: "film_actor", pk: "1,23" });
  });

  it("leaves every other page alone", () => {
    for (const path of ["/", "/login", "/drafts/3", "/r/courses/records/new", "/r/courses/records/import", "/r/", "/r/courses/"]) {
      expect(pageOf(path)).toBeNull();
    }
    expect(pageOf("/r/courses/%E0%A4%A")).toBeNull(); // not decodable
  });
});
