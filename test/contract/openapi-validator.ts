import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under Node's ESM loader its default export is the plugin function itself.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** The repository root (this file lives in test/contract/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the shared reference lives: beside the checkout, never copied into it. */
export const referenceDir = path.resolve(repoRoot, '../shared/reference');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** How strictly to read the spec. */
export interface ConversionOptions {
  /**
   * Also require every documented property and forbid undocumented ones on each object schema that
   * lists properties: the simulator must send exactly the documented fields (the spec itself
   * requires nothing, so without this a response with a misspelt field would still pass).
   */
  readonly exactProperties: boolean;
  /**
   * Read `format: uri` as a URI reference. The 2010 spec marks `first_page_uri`, `uri` and friends
   * `format: uri`, yet its own examples, the SDKs and the real API use relative URIs there.
   */
  readonly relativeUris: boolean;
}

/** Loads one of the OpenAPI documents of the shared reference. */
export function loadSpec(fileName: string): JsonObject {
  return JSON.parse(readFileSync(path.join(referenceDir, fileName), 'utf8')) as JsonObject;
}

/**
 * Turns OpenAPI 3.0 schema objects into JSON Schema for ajv. The Insights spec writes enum fields as
 * `{type, $ref, nullable: true}`; strict OAS 3.0 ignores siblings of `$ref` and would call them not
 * nullable, which the spec's own examples contradict, so `$ref` + `nullable` becomes "ref or null".
 */
export function convertSchema(schema: Json, options: ConversionOptions): Json {
  if (Array.isArray(schema)) return schema.map((item) => convertSchema(item, options));
  if (!isObject(schema)) return schema;
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const target = { $ref: ref.replace('#/components/schemas/', '#/$defs/') };
    return schema.nullable === true ? { anyOf: [target, { type: 'null' }] } : target;
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || key === 'example' || key === 'examples' || key === 'nullable') continue;
    out[key] = key === 'properties' && isObject(value)
      ? Object.fromEntries(Object.entries(value).map(([name, child]) => [name, convertSchema(child, options)]))
      : convertSchema(value, options);
  }
  if (options.relativeUris && out.format === 'uri') out.format = 'uri-reference';
  // `uri-map` marks an object of URIs; JSON Schema formats only apply to strings and numbers.
  if (out.format === 'uri-map') delete out.format;
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  if (options.exactProperties && isObject(out.properties)) {
    out.required = Object.keys(out.properties);
    out.additionalProperties = false;
  }
  return out;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  // Twilio's own formats: the RFC 2822 dates of the 2010 API and a few informative ones.
  ajv.addFormat('date-time-rfc-2822', /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
  ajv.addFormat('phone-number', true);
  ajv.addFormat('currency', /^[A-Z]{3}$/);
  return ajv;
}

/** A validator for the JSON response (200 unless `status` says otherwise) of an operation of a spec document. */
export function responseValidator(
  spec: JsonObject,
  apiPath: string,
  options: ConversionOptions,
  method = 'get',
  status = '200',
): ValidateFunction {
  const operation = (spec.paths as JsonObject | undefined)?.[apiPath];
  const responses = isObject(operation) && isObject(operation[method]) ? operation[method].responses : undefined;
  const ok = isObject(responses) ? responses[status] : undefined;
  const content = isObject(ok) && isObject(ok.content) ? ok.content['application/json'] : undefined;
  if (!isObject(content) || content.schema === undefined) throw new Error(`no ${status} JSON schema for ${method.toUpperCase()} ${apiPath}`);
  const components = isObject(spec.components) && isObject(spec.components.schemas) ? spec.components.schemas : {};
  const defs = Object.fromEntries(Object.entries(components).map(([name, schema]) => [name, convertSchema(schema, options)]));
  const root = convertSchema(content.schema, options);
  const schema = isObject(root) && root.$ref === undefined ? { ...root, $defs: defs } : { allOf: [root], $defs: defs };
  return newAjv().compile(schema);
}

/** ajv errors as one readable line each. */
export function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n');
}
