import fc from 'fast-check';

import { HOSTILE_STRINGS } from './hostile.js';

/** The part of JSON Schema (draft 2020-12, as zod emits it) that tools' input schemas use. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  maxItems?: number;
}

export interface ArgumentHints {
  /**
   * Values that exist in the backend, by property name (a table, a file, a repository): mixed into
   * what is generated so that calls reach past "not found" into the code that does the work.
   */
  known?: Readonly<Record<string, readonly unknown[]>>;
}

const MAX_GENERATED_ITEMS = 4;
const MAX_DEPTH = 4;

/** Any JSON value, nested a little. */
const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

/** Cuts or pads a string to a field's length bounds, so a hostile string passes validation. */
function fit(text: string, min = 0, max?: number): string {
  const cut = max === undefined ? text : text.slice(0, max);
  return cut.length >= min ? cut : cut + 'a'.repeat(min - cut.length);
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === 'string') return [schema.type];
  if (schema.properties !== undefined) return ['object'];
  return [];
}

function patternMatcher(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

function validString(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength;
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (schema.pattern !== undefined) {
    const regex = patternMatcher(schema.pattern);
    if (regex !== undefined) {
      return fc
        .stringMatching(regex)
        .filter((s) => s.length >= min && (max === undefined || s.length <= max) && regex.test(s));
    }
  }
  const bounded = { minLength: min, maxLength: Math.max(min, Math.min(max ?? 40, 40)) };
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map((s) => fit(s, min, max)) },
    { weight: 2, arbitrary: fc.string(bounded) },
    { weight: 1, arbitrary: fc.string({ ...bounded, unit: 'binary' }) },
  );
}

function validNumber(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const lower = schema.minimum ?? (schema.exclusiveMinimum === undefined ? undefined : schema.exclusiveMinimum + 1);
  const upper = schema.maximum ?? (schema.exclusiveMaximum === undefined ? undefined : schema.exclusiveMaximum - 1);
  if (integer) {
    const min = Math.max(lower ?? -1_000_000, Number.MIN_SAFE_INTEGER);
    const max = Math.min(upper ?? 1_000_000, Number.MAX_SAFE_INTEGER);
    return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
  }
  return fc.double({ min: lower ?? -1e9, max: upper ?? 1e9, noNaN: true, noDefaultInfinity: true });
}

function validArray(schema: JsonSchema, hints: ArgumentHints, depth: number): fc.Arbitrary<unknown[]> {
  const minLength = schema.minItems ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? MAX_GENERATED_ITEMS, MAX_GENERATED_ITEMS));
  return fc.array(validValue(schema.items ?? {}, hints, depth + 1), { minLength, maxLength });
}

function validObject(schema: JsonSchema, hints: ArgumentHints, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  if (names.length === 0 && schema.additionalProperties !== false) {
    // A map (z.record): keys from propertyNames, values from additionalProperties.
    const keys = schema.propertyNames === undefined ? fc.string({ maxLength: 20 }) : validString(schema.propertyNames);
    const values =
      typeof schema.additionalProperties === 'object'
        ? validValue(schema.additionalProperties, hints, depth + 1)
        : anyJson;
    return fc.dictionary(hintedKeys(keys, hints), values, { maxKeys: MAX_GENERATED_ITEMS });
  }
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) model[name] = validValue(properties[name] ?? {}, hints, depth + 1, name);
  return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => names.includes(k)) });
}

/** Map keys: the known column or field names as often as random ones. */
function hintedKeys(keys: fc.Arbitrary<string>, hints: ArgumentHints): fc.Arbitrary<string> {
  const known = (hints.known?.['$keys'] ?? []).filter((k): k is string => typeof k === 'string');
  return known.length === 0 ? keys : fc.oneof(fc.constantFrom(...known), keys);
}

/** A value the schema accepts (as far as JSON Schema says), hostile strings included. */
export function validValue(
  schema: JsonSchema,
  hints: ArgumentHints = {},
  depth = 0,
  name?: string,
): fc.Arbitrary<unknown> {
  const generated = validByShape(schema, hints, depth);
  const known = name === undefined ? undefined : hints.known?.[name];
  if (known === undefined || known.length === 0) return generated;
  return fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: generated });
}

function validByShape(schema: JsonSchema, hints: ArgumentHints, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined && alternatives.length > 0) {
    return fc.oneof(...alternatives.map((alternative) => validValue(alternative, hints, depth)));
  }
  if (depth > MAX_DEPTH) return fc.constant(null);
  const types = typesOf(schema);
  if (types.length === 0) return anyJson;
  return fc.oneof(
    ...types.map((type): fc.Arbitrary<unknown> => {
      switch (type) {
        case 'string':
          return validString(schema);
        case 'integer':
          return validNumber(schema, true);
        case 'number':
          return validNumber(schema, false);
        case 'boolean':
          return fc.boolean();
        case 'null':
          return fc.constant(null);
        case 'array':
          return validArray(schema, hints, depth);
        case 'object':
          return validObject(schema, hints, depth);
        default:
          return anyJson;
      }
    }),
  );
}

/** A value of some other JSON type than the schema's. */
function wrongType(schema: JsonSchema): fc.Arbitrary<unknown> {
  const types = new Set(typesOf(schema));
  const choices: fc.Arbitrary<unknown>[] = [];
  if (!types.has('string')) choices.push(fc.constantFrom('', '1', 'true', 'null', '{}', '[]'));
  if (!types.has('number') && !types.has('integer')) choices.push(fc.constantFrom(0, -1, 1e308, 0.5));
  if (!types.has('boolean')) choices.push(fc.boolean());
  if (!types.has('null')) choices.push(fc.constant(null));
  if (!types.has('array')) choices.push(fc.constantFrom([], [null], [[[[[]]]]]));
  if (!types.has('object')) choices.push(fc.constantFrom({}, { __proto__: null }, { constructor: { prototype: 1 } }));
  return choices.length === 0 ? anyJson : fc.oneof(...choices);
}

/** A value the schema refuses in one place (or a little more): wrong type, out of range, too long, … */
export function invalidValue(schema: JsonSchema, hints: ArgumentHints = {}, depth = 0): fc.Arbitrary<unknown> {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) {
    // Of a union, only a type none of its members has is surely refused.
    return wrongType({ type: alternatives.flatMap((alternative) => typesOf(alternative)) });
  }
  const choices: fc.Arbitrary<unknown>[] = [wrongType(schema)];
  const types = typesOf(schema);
  if (schema.enum !== undefined) choices.push(fc.constantFrom(...HOSTILE_STRINGS.slice(0, 20), 'NOT_A_MEMBER'));
  if (types.includes('string')) {
    if (schema.maxLength !== undefined) choices.push(fc.constant('x'.repeat(schema.maxLength + 1)));
    if ((schema.minLength ?? 0) > 0) choices.push(fc.constant(''));
    if (schema.pattern !== undefined) choices.push(fc.constantFrom(...HOSTILE_STRINGS));
  }
  if (types.includes('integer') || types.includes('number')) {
    if (schema.minimum !== undefined) choices.push(fc.constant(schema.minimum - 1));
    if (schema.maximum !== undefined) choices.push(fc.constant(schema.maximum + 1));
    if (types.includes('integer')) choices.push(fc.constantFrom(0.5, 1e300, -1e300, Number.MAX_SAFE_INTEGER + 2));
  }
  if (types.includes('array')) {
    if (schema.maxItems !== undefined)
      choices.push(fc.constant(Array.from({ length: schema.maxItems + 1 }, () => 'x')));
    if (schema.items !== undefined && depth < MAX_DEPTH) {
      choices.push(fc.array(invalidValue(schema.items, hints, depth + 1), { minLength: 1, maxLength: 2 }));
    }
  }
  if (types.includes('object') && depth < MAX_DEPTH) choices.push(invalidObject(schema, hints, depth));
  return fc.oneof(...choices);
}

function withUnknownKey(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(valid, fc.constantFrom('__proto__', 'constructor', 'unknown_field', ''), fc.constantFrom(...HOSTILE_STRINGS))
    .map(([value, key, extra]) => ({ ...value, [key]: extra }));
}

function invalidObject(schema: JsonSchema, hints: ArgumentHints, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  const valid = validObject(schema, hints, depth);
  const mutations: fc.Arbitrary<unknown>[] = [wrongType(schema)];
  // An unknown key, which a strict schema refuses (toolArguments also sends them to lax ones).
  if (schema.additionalProperties === false) mutations.push(withUnknownKey(valid));
  if (typeof schema.additionalProperties === 'object' && names.length === 0) {
    // A map whose value breaks the value schema.
    const bad = invalidValue(schema.additionalProperties, hints, depth + 1);
    mutations.push(fc.tuple(valid, bad).map(([value, extra]) => ({ ...value, bad_key: extra })));
  }
  const required = (schema.required ?? []).filter((k) => names.includes(k));
  if (required.length > 0) {
    mutations.push(
      fc.tuple(valid, fc.constantFrom(...required)).map(([value, key]) => {
        const copy = { ...value };
        delete copy[key];
        return copy;
      }),
    );
  }
  if (names.length > 0) {
    mutations.push(
      fc
        .constantFrom(...names)
        .chain((key) => fc.tuple(valid, fc.constant(key), invalidValue(properties[key] ?? {}, hints, depth + 1)))
        .map(([value, key, bad]) => ({ ...value, [key]: bad })),
    );
  }
  return fc.oneof(...mutations);
}

/** Arguments for a tool: mostly well-shaped (hostile strings inside), the rest wrong somewhere. */
export function toolArguments(schema: JsonSchema, hints: ArgumentHints = {}): fc.Arbitrary<unknown> {
  const extraKey =
    typesOf(schema).includes('object') && schema.additionalProperties !== false
      ? [{ weight: 1, arbitrary: withUnknownKey(validObject(schema, hints, 0)) }]
      : [];
  return fc.oneof(
    { weight: 3, arbitrary: validValue(schema, hints) },
    { weight: 2, arbitrary: invalidValue(schema, hints) },
    ...extraKey,
  );
}
