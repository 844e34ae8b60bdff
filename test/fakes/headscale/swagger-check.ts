import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A small Swagger 2.0 schema checker for the subset Headscale's grpc-gateway files use: $ref, object with
 * properties (additionalProperties only on protobufAny), array/items, string with format uint64/int64
 * (decimal strings) and date-time (RFC 3339), boolean, integer (int32), enum. Hand-rolled because the
 * common validators speak JSON Schema drafts, not Swagger 2.0 `definitions`/`format` rules, and this subset
 * is a page of code.
 *
 * protojson rules applied: every declared property is emitted (so a missing one is reported in responses),
 * unset messages and timestamps are `null`.
 */
export interface SwaggerSchema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: string[];
  properties?: Record<string, SwaggerSchema>;
  additionalProperties?: unknown;
  items?: SwaggerSchema;
  /** OpenAPI 3.1 `type: [T, "null"]` (0.30 facts; Swagger 2.0 files never set it). */
  nullable?: boolean;
  /** Properties a response may leave out (0.30 `omitempty` fields, e.g. of the RFC 7807 ErrorModel). */
  optional?: string[];
}

export interface SwaggerParameter {
  name: string;
  in: 'path' | 'query' | 'body';
  type?: string;
  format?: string;
  schema?: SwaggerSchema;
}

export interface SwaggerOperation {
  parameters?: SwaggerParameter[];
  responses: Record<string, { schema?: SwaggerSchema }>;
}

export interface SwaggerDoc {
  paths: Record<string, Record<string, SwaggerOperation>>;
  definitions: Record<string, SwaggerSchema>;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function swaggerDir(repoRoot: string): string {
  return path.resolve(repoRoot, '../shared/reference/headscale-openapi');
}

export function loadSwagger(dir: string, tag: string): SwaggerDoc | undefined {
  const file = path.join(dir, `${tag}.swagger.json`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as SwaggerDoc;
}

export function findOperation(doc: SwaggerDoc, method: string, template: string): SwaggerOperation | undefined {
  return doc.paths[template]?.[method.toLowerCase()];
}

/** The swagger path template a concrete path matches, e.g. `/api/v1/node/7` → `/api/v1/node/{nodeId}`. */
export function matchPath(doc: SwaggerDoc, method: string, concrete: string): string | undefined {
  const parts = concrete.split('/');
  const candidates = Object.keys(doc.paths).filter((t) => {
    const tp = t.split('/');
    if (tp.length !== parts.length || !doc.paths[t]?.[method.toLowerCase()]) return false;
    return tp.every((seg, i) => seg.startsWith('{') || seg === parts[i]);
  });
  // Literal segments beat parameters (`/preauthkey/expire` over `/preauthkey/{x}`).
  candidates.sort((a, b) => literalCount(b) - literalCount(a));
  return candidates[0];
}

function literalCount(t: string): number {
  return t.split('/').filter((s) => s !== '' && !s.startsWith('{')).length;
}

export interface CheckOptions {
  /** Responses: protojson emits every field, so a missing property is an error. Requests may omit fields. */
  requireAll: boolean;
  /** Swagger 2.0 (protobuf Timestamp): every date-time may be null. 0.30 marks the nullable ones itself. */
  timestampsNullable?: boolean;
}

export function validate(doc: SwaggerDoc, schema: SwaggerSchema, value: unknown, at: string, opts: CheckOptions): string[] {
  const errors: string[] = [];
  walk(doc, schema, value, at, opts, errors, 0);
  return errors;
}

function resolve(doc: SwaggerDoc, schema: SwaggerSchema): { schema: SwaggerSchema; message: boolean } {
  if (!schema.$ref) return { schema, message: false };
  const name = schema.$ref.replace('#/definitions/', '');
  const def = doc.definitions[name];
  if (!def) throw new Error(`swagger: unknown definition ${schema.$ref}`);
  // A $ref to an object is a protobuf message (nullable); a $ref to a string is an enum (never null).
  return { schema: def, message: (def.type ?? 'object') === 'object' };
}

function walk(doc: SwaggerDoc, raw: SwaggerSchema, value: unknown, at: string, opts: CheckOptions, errors: string[], depth: number): void {
  if (depth > 20) return;
  const { schema, message } = resolve(doc, raw);
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  if (value === null) {
    if (message || schema.nullable || (type === 'string' && schema.format === 'date-time' && opts.timestampsNullable !== false)) return;
    errors.push(`${at}: null where ${type ?? 'a value'} is required`);
    return;
  }
  switch (type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        errors.push(`${at}: expected object, got ${describe(value)}`);
        return;
      }
      const props = schema.properties ?? {};
      const obj = value as Record<string, unknown>;
      for (const [k, v] of Object.entries(obj)) {
        const p = props[k];
        if (p) walk(doc, p, v, `${at}.${k}`, opts, errors, depth + 1);
        else if (schema.additionalProperties === undefined) errors.push(`${at}.${k}: unknown property`);
      }
      if (opts.requireAll) for (const k of Object.keys(props)) if (!(k in obj) && !schema.optional?.includes(k)) errors.push(`${at}.${k}: missing property`);
      return;
    }
    case 'array':
      if (!Array.isArray(value)) {
        errors.push(`${at}: expected array, got ${describe(value)}`);
        return;
      }
      value.forEach((v, i) => walk(doc, schema.items ?? {}, v, `${at}[${i}]`, opts, errors, depth + 1));
      return;
    case 'string':
      if (typeof value !== 'string') {
        errors.push(`${at}: expected string${schema.format ? ` (${schema.format})` : ''}, got ${describe(value)}`);
        return;
      }
      if ((schema.format === 'uint64' || schema.format === 'int64') && !/^-?\d+$/.test(value)) {
        errors.push(`${at}: ${JSON.stringify(value)} is not a ${schema.format} decimal string`);
      }
      if (schema.format === 'date-time' && !RFC3339.test(value)) errors.push(`${at}: ${JSON.stringify(value)} is not RFC 3339`);
      if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} not in enum ${schema.enum.join('|')}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${at}: expected boolean, got ${describe(value)}`);
      return;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value))) errors.push(`${at}: expected ${type}, got ${describe(value)}`);
      return;
    default:
      return; // untyped schema: anything goes
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'string' ? `string ${JSON.stringify(v).slice(0, 40)}` : typeof v;
}

/** A non-body parameter value against its declared type/format. */
export function validateParam(p: SwaggerParameter, value: string, at: string): string[] {
  if ((p.format === 'uint64' || p.format === 'int64') && !/^\d+$/.test(value)) return [`${at}: ${JSON.stringify(value)} is not ${p.format}`];
  if (p.type === 'boolean' && value !== 'true' && value !== 'false') return [`${at}: ${JSON.stringify(value)} is not boolean`];
  if (p.format === 'date-time' && !RFC3339.test(value)) return [`${at}: ${JSON.stringify(value)} is not RFC 3339`];
  return [];
}
