import fc from 'fast-check';
import { hostileJson } from './hostile.js';

/** The part of JSON Schema (as served in an OpenAPI 3.0 document) that request bodies use here. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  nullable?: boolean;
}

/** Overrides by property name, e.g. `skuId` → ids that exist, so generated requests can also succeed. */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

/**
 * An arbitrary of values that satisfy `schema` (resolving `#/components/schemas/...` in `doc`), with
 * `hints` replacing the values of named properties.
 */
export function fromSchema(
  schema: JsonSchema,
  doc: { components?: { schemas?: Record<string, JsonSchema> } },
  hints: Hints = {},
): fc.Arbitrary<unknown> {
  const go = (s: JsonSchema, depth: number): fc.Arbitrary<unknown> => {
    if (s.$ref) {
      const name = s.$ref.replace('#/components/schemas/', '');
      const target = doc.components?.schemas?.[name];
      if (!target) throw new Error(`unresolved ${s.$ref}`);
      return go(target, depth);
    }
    if (s.const !== undefined) return fc.constant(s.const);
    if (s.enum) return fc.constantFrom(...s.enum);
    if (s.anyOf ?? s.oneOf) return fc.oneof(...(s.anyOf ?? s.oneOf)!.map((x) => go(x, depth) as fc.Arbitrary<unknown>));
    if (s.allOf) return go(Object.assign({}, ...s.allOf), depth);
    const base = ((): fc.Arbitrary<unknown> => {
      switch (Array.isArray(s.type) ? s.type[0] : s.type) {
        case 'string':
          if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
          if (s.format === 'date-time')
            return fc
              .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
              .map((d) => d.toISOString());
          return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 30, 30) });
        case 'integer':
          return fc.integer({ min: s.minimum ?? -(2 ** 31), max: s.maximum ?? 2 ** 31 });
        case 'number':
          return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
        case 'boolean':
          return fc.boolean();
        case 'array':
          return fc.array(go(s.items ?? {}, depth + 1), {
            minLength: s.minItems ?? 0,
            maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 4, 4)),
          });
        case 'object': {
          const props = s.properties ?? {};
          const model: Record<string, fc.Arbitrary<unknown>> = {};
          for (const [k, v] of Object.entries(props)) model[k] = hints[k] ?? go(v, depth + 1);
          return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
        }
        default:
          return depth > 2 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
      }
    })();
    return s.nullable ? fc.option(base, { nil: null }) : base;
  };
  return go(schema, 0);
}

type Path = Array<string | number>;

function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) pathsOf(v[i], [...at, i], out);
  } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

function setAt(root: unknown, path: Path, f: (parent: any, key: string | number) => void): unknown {
  if (path.length === 0) return root;
  const copy = structuredClone(root);
  let cur: any = copy;
  for (const k of path.slice(0, -1)) cur = cur[k];
  f(cur, path[path.length - 1]!);
  return copy;
}

/**
 * One valid value changed in one place: a value replaced by a hostile one, a field removed, or an
 * unknown field added. The whole value may be replaced too.
 */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(valid, fc.nat(), fc.constantFrom('replace', 'remove', 'extra', 'whole'), hostileJson)
    .map(([v, pick, how, bad]) => {
      if (how === 'whole') return bad;
      const paths = pathsOf(v);
      const path = paths[pick % paths.length]!;
      if (path.length === 0) return how === 'extra' && v && typeof v === 'object' ? { ...v, unexpected: bad } : bad;
      return setAt(v, path, (parent, key) => {
        if (how === 'replace') parent[key] = bad;
        else if (how === 'remove') Array.isArray(parent) ? parent.splice(Number(key), 1) : delete parent[key];
        else if (parent[key] && typeof parent[key] === 'object' && !Array.isArray(parent[key])) parent[key].extra = bad;
        else parent[key] = [parent[key], bad];
      });
    });
}
