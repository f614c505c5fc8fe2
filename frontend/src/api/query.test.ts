import { describe, expect, it } from "vitest";
import { recordsQuery, serializeQuery } from "./query";

describe("records queries", () => {
  it("gathers flat filter keys into the deepObject filter", () => {
    expect(
      recordsQuery({ "filter[title][icontains]": "intro", "filter[status][in]": "open,closed", "filter[id]": "3", limit: "25", sort: "-title" }),
    ).toEqual({ filter: { title: { icontains: "intro" }, status: { in: "open,closed" }, id: "3" }, limit: 25, sort: "-title" });
  });

  it("keeps two operators on one field", () => {
    expect(recordsQuery({ "filter[n][gte]": "1", "filter[n][lt]": "9" })).toEqual({ filter: { n: { gte: "1", lt: "9" } } });
  });

  it("refuses what is not a records parameter", () => {
    expect(() => recordsQuery({ colour: "red" })).toThrow(/colour/);
    expect(() => recordsQuery({ deleted: "sometimes" })).toThrow(/deleted/);
  });

  it("writes the query string the server reads, encoded", () => {
    const query = recordsQuery({ "filter[title][icontains]": "a&b c", q: "ü", limit: "5" });
    expect(serializeQuery(query)).toBe("q=%C3%BC&limit=5&filter[title][icontains]=a%26b%20c");
  });

  it("leaves out empty members", () => {
    expect(serializeQuery({ a: undefined, b: null, c: {}, d: "x" })).toBe("d=x");
  });
});
