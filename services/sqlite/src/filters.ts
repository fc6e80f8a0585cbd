/**
 * Filters and ORDER BY for the record tools. Every column goes through the table's ColumnResolver
 * (the live schema) and is quoted; every value is a bound parameter.
 *
 *   { "status": "open", "owner": null }                 status = ? AND owner IS NULL
 *   { "age": { "gte": 18, "lt": 65 } }                 age >= ? AND age < ?
 *   { "tag": { "in": ["a", "b"] }, "note": { "is_null": false } }
 */
import { DatabaseError, showName } from './errors.js';
import type { ColumnResolver } from './identifiers.js';
import { quoteIdentifier } from './identifiers.js';
import { type SqlValue, toSqlValue } from './values.js';

export const FILTER_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'like', 'in', 'not_in', 'is_null'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export interface SqlFragment {
  sql: string;
  params: SqlValue[];
}

const COMPARISON: Record<'gt' | 'gte' | 'lt' | 'lte', string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

function isOperator(key: string): key is FilterOperator {
  return (FILTER_OPERATORS as readonly string[]).includes(key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalar(value: unknown, where: string): SqlValue {
  if (typeof value === 'object' && value !== null) {
    throw new DatabaseError('INVALID_INPUT', `${where}: expected a string, number or boolean, not an object or array`);
  }
  return toSqlValue(value, where);
}

function condition(column: string, op: FilterOperator, value: unknown, params: SqlValue[]): string {
  const where = `filter on ${showName(column)} (${op})`;
  const quoted = quoteIdentifier(column);
  switch (op) {
    case 'eq':
    case 'ne': {
      if (value === null) return `${quoted} IS ${op === 'eq' ? '' : 'NOT '}NULL`;
      params.push(scalar(value, where));
      return `${quoted} ${op === 'eq' ? '=' : '<>'} ?`;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (value === null) throw new DatabaseError('INVALID_INPUT', `${where}: cannot compare with null`);
      params.push(scalar(value, where));
      return `${quoted} ${COMPARISON[op]} ?`;
    case 'like':
      if (typeof value !== 'string') throw new DatabaseError('INVALID_INPUT', `${where}: expected a pattern string`);
      params.push(value);
      return `${quoted} LIKE ?`;
    case 'in':
    case 'not_in': {
      if (!Array.isArray(value) || value.length === 0) {
        throw new DatabaseError('INVALID_INPUT', `${where}: expected a non-empty array of values`);
      }
      if (value.includes(null)) {
        throw new DatabaseError('INVALID_INPUT', `${where}: null never matches in a list; use { "is_null": true }`);
      }
      for (const [index, item] of value.entries()) params.push(scalar(item, `${where}[${index}]`));
      return `${quoted} ${op === 'in' ? 'IN' : 'NOT IN'} (${value.map(() => '?').join(', ')})`;
    }
    case 'is_null':
      if (typeof value !== 'boolean') throw new DatabaseError('INVALID_INPUT', `${where}: expected true or false`);
      return `${quoted} IS ${value ? '' : 'NOT '}NULL`;
  }
}

/**
 * Builds the condition of a WHERE clause (without the keyword). Keys are AND-ed; an empty object
 * gives an empty fragment. A plain value means equality (null means IS NULL); an object holds
 * operators.
 */
export function buildWhere(filters: Record<string, unknown>, columns: ColumnResolver): SqlFragment {
  const params: SqlValue[] = [];
  const parts: string[] = [];
  for (const [name, value] of Object.entries(filters)) {
    const column = columns.resolve(name);
    if (isPlainObject(value)) {
      const ops = Object.entries(value);
      if (ops.length === 0) {
        throw new DatabaseError(
          'INVALID_INPUT',
          `Filter on ${showName(name)}: empty operator object (use one of ${FILTER_OPERATORS.join(', ')})`,
        );
      }
      for (const [op, operand] of ops) {
        if (!isOperator(op)) {
          throw new DatabaseError(
            'INVALID_INPUT',
            `Filter on ${showName(name)}: unknown operator ${showName(op)} (use one of ${FILTER_OPERATORS.join(', ')})`,
          );
        }
        parts.push(condition(column, op, operand, params));
      }
    } else if (Array.isArray(value)) {
      throw new DatabaseError(
        'INVALID_INPUT',
        `Filter on ${showName(name)}: an array is ambiguous; use { "in": [...] } to match any of several values`,
      );
    } else {
      parts.push(condition(column, 'eq', value, params));
    }
  }
  return { sql: parts.join(' AND '), params };
}

/** One ORDER BY term: a name (plain or "double-quoted"), optionally prefixed by `-` or followed by ASC/DESC. */
const ORDER_TERM = /^(-)?\s*(?:"((?:[^"]|"")+)"|([^\s,"-][^\s,"]*))(?:\s+(asc|desc))?$/i;

/**
 * Parses order_by ("name", "name DESC", "name ASC, created DESC", "-created") into an ORDER BY
 * list (without the keyword). Each column is checked against the live schema.
 */
export function buildOrderBy(orderBy: string, columns: ColumnResolver): string {
  const terms = orderBy.split(',').map((term) => term.trim());
  if (terms.length === 0 || terms.some((term) => term.length === 0)) {
    throw new DatabaseError(
      'INVALID_INPUT',
      `order_by ${showName(orderBy)}: empty term; use "col", "col DESC" or "-col"`,
    );
  }
  return terms
    .map((term) => {
      const match = ORDER_TERM.exec(term);
      if (!match) {
        throw new DatabaseError(
          'INVALID_INPUT',
          `order_by term ${showName(term)} is not understood; use "col", "col ASC", "col DESC" or "-col"`,
        );
      }
      const [, minus, quotedName, plainName, direction] = match;
      if (minus && direction) {
        throw new DatabaseError(
          'INVALID_INPUT',
          `order_by term ${showName(term)}: use either "-col" or "col DESC", not both`,
        );
      }
      const name = quotedName !== undefined ? quotedName.replaceAll('""', '"') : (plainName ?? '');
      const column = columns.quoted(name);
      const dir = minus ? 'DESC' : (direction?.toUpperCase() ?? 'ASC');
      return `${column} ${dir}`;
    })
    .join(', ');
}
