// Which field each column of an imported file fills: suggested from the
// headers, changed by the person, and what the file sent to the server then
// says in its header row (the server reads a header as the field's name).
import type { FieldMeta, ResourceMeta } from "../../api/models";

/** Column header → field name; "" leaves the column out. */
export type Mapping = Record<string, string>;

/** The resource's key fields (its primary key, one or several). */
export function pkFields(meta: Pick<ResourceMeta, "pk">): string[] {
  if (meta.pk === null) return [];
  return Array.isArray(meta.pk) ? meta.pk : [meta.pk];
}

/**
 * The fields a file may fill: the writable ones, and the key's fields (read
 * only, but they say which record a line updates).
 */
export function importableFields(meta: Pick<ResourceMeta, "pk" | "fields">): FieldMeta[] {
  const keys = new Set(pkFields(meta));
  return meta.fields.filter((f) => !f.read_only || keys.has(f.name));
}

/** A header or a field's name or label, compared without case, spacing, `_` or `-`. */
export function normalize(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\s_-]+/g, " ")
    .trim();
}

/**
 * A field for each header, where one fits: the field named exactly so, then
 * the one labelled so, then by name or label without case and spacing. Each
 * field fills at most one column (the first that names it); a header with no
 * match maps to "" (left out).
 */
export function suggestMapping(headers: string[], fields: FieldMeta[]): Mapping {
  const taken = new Set<string>();
  const mapping: Mapping = {};
  const passes: ((h: string, f: FieldMeta) => boolean)[] = [
    (h, f) => h === f.name,
    (h, f) => h.trim() === f.label,
    (h, f) => normalize(h) === normalize(f.name),
    (h, f) => normalize(h) === normalize(f.label),
  ];
  for (const header of headers) mapping[header] = "";
  for (const matches of passes) {
    for (const header of headers) {
      if (mapping[header]) continue;
      const field = fields.find((f) => !taken.has(f.name) && matches(header, f));
      if (field) {
        mapping[header] = field.name;
        taken.add(field.name);
      }
    }
  }
  return mapping;
}

/**
 * The mapping for a new file after a corrected one is uploaded: what the
 * person chose for a header keeps holding for that header; headers new to the
 * file get suggestions (from the fields not already chosen).
 */
export function carryMapping(previous: Mapping, headers: string[], fields: FieldMeta[]): Mapping {
  const kept = headers.filter((h) => h in previous);
  const used = new Set(kept.map((h) => previous[h]).filter(Boolean));
  const suggested = suggestMapping(
    headers.filter((h) => !(h in previous)),
    fields.filter((f) => !used.has(f.name)),
  );
  return Object.fromEntries(headers.map((h) => [h, h in previous ? previous[h] : suggested[h]]));
}

/** Fields two columns fill at once: a mistake to fix before the preview. */
export function duplicateTargets(mapping: Mapping): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const field of Object.values(mapping)) {
    if (!field) continue;
    if (seen.has(field)) twice.add(field);
    seen.add(field);
  }
  return [...twice];
}

/** Whether the file can be sent as it is: every column kept, its header the field's name. */
export function isIdentity(headers: string[], mapping: Mapping): boolean {
  return headers.every((h) => mapping[h] === h);
}

/**
 * What lines can be matched by: the resource's key (the default, sent as no
 * `key`), or a field that alone names one record (FieldMeta.unique).
 */
export function keyChoices(meta: ResourceMeta): { value: string; label: string }[] {
  const pk = pkFields(meta);
  const label = (name: string) => meta.fields.find((f) => f.name === name)?.label ?? name;
  const unique = meta.fields.filter((f) => f.unique && !(pk.length === 1 && pk[0] === f.name));
  return [
    ...(pk.length > 0 ? [{ value: "", label: pk.map(label).join(" + ") }] : []),
    ...unique.map((f) => ({ value: f.name, label: f.label })),
  ];
}
