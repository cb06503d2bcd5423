import { z } from 'zod';

/** The YAML value kind at a schema leaf. */
export type LeafKind = 'string' | 'number' | 'boolean' | 'list' | 'map';

/** One settable key of the config file. */
export interface SchemaLeaf {
  /** YAML keys from the root; `[]` stands for "each list item". */
  readonly path: readonly string[];
  /** What YAML value the key takes. */
  readonly kind: LeafKind;
}

/** The list-item marker in {@link SchemaLeaf.path}. */
export const EACH = '[]';

// Sees through wrappers (defaults, optionals, transforms) to the schema that checks the YAML value.
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (
      s instanceof z.ZodDefault ||
      s instanceof z.ZodPrefault ||
      s instanceof z.ZodOptional ||
      s instanceof z.ZodNullable ||
      s instanceof z.ZodReadonly
    ) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = (s.in instanceof z.ZodTransform ? s.out : s.in) as z.ZodType;
    } else {
      return s;
    }
  }
}

function scalarKind(s: z.ZodType): LeafKind | undefined {
  if (s instanceof z.ZodString || s instanceof z.ZodEnum) return 'string';
  if (s instanceof z.ZodNumber) return 'number';
  if (s instanceof z.ZodBoolean) return 'boolean';
  return undefined;
}

function walk(schema: z.ZodType, path: readonly string[], out: SchemaLeaf[]): void {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    const shape: Readonly<Record<string, z.ZodType>> = s.shape;
    for (const [key, child] of Object.entries(shape)) walk(child, [...path, key], out);
  } else if (s instanceof z.ZodUnion) {
    for (const option of s.options as readonly z.ZodType[]) walk(option, path, out);
  } else if (s instanceof z.ZodArray) {
    const element = unwrap(s.element as z.ZodType);
    if (scalarKind(element) !== undefined) out.push({ path, kind: 'list' });
    else walk(element, [...path, EACH], out);
  } else if (s instanceof z.ZodRecord) {
    out.push({ path, kind: 'map' });
  } else {
    const kind = scalarKind(s);
    if (kind === undefined) throw new Error(`schema-walk: unsupported schema at ${path.join('.')}`);
    out.push({ path, kind });
  }
}

/** Lists every key the config schema accepts, in declaration order, for docs checks and environment overrides. */
export function schemaLeaves(schema: z.ZodType): SchemaLeaf[] {
  const out: SchemaLeaf[] = [];
  walk(schema, [], out);
  return out;
}
