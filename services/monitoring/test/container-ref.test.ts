import { describe, expect, it } from 'vitest';

import { checkContainerRef, resolveContainerRef } from '../src/container-ref.js';
import { HOSTILE_REFS } from './helpers/hostile.js';

const ID_A = 'ab12'.padEnd(64, '0');
const ID_B = 'ab34'.padEnd(64, '1');
const ID_C = 'cd56'.padEnd(64, '2');
const containers = [
  { Id: ID_A, Names: ['/web'] },
  { Id: ID_B, Names: ['/db.primary'] },
  { Id: ID_C, Names: ['/ab12'] }, // a name that is also a prefix of another container's id
];

describe('checkContainerRef', () => {
  it("accepts Docker's name grammar and ids, with the engine's optional leading slash", () => {
    for (const ref of [
      'web',
      'db.primary',
      'mcp-sqlite',
      'a_b',
      '0abc',
      ID_A,
      ID_A.slice(0, 12),
      '/web',
      'W3b-1.2_x',
    ]) {
      expect(checkContainerRef(ref)).toBe(ref.replace(/^\//, ''));
    }
  });

  it('refuses the whole hostile class with a message that says what a reference is', () => {
    for (const ref of HOSTILE_REFS) {
      expect(() => checkContainerRef(ref), JSON.stringify(ref.slice(0, 40))).toThrow(/^Invalid container reference/);
    }
    expect(() => checkContainerRef('web; id')).toThrow(
      'Invalid container reference "web; id": use a container name (letters, digits, "_", "." and "-", starting with a letter or digit) or id (hex, or a unique prefix of one)',
    );
    // A huge reference is not echoed back.
    expect(() => checkContainerRef('x'.repeat(10_240))).toThrow(
      /^Invalid container reference \(10240 characters; at most 255\)/,
    );
  });
});

describe('resolveContainerRef', () => {
  it('resolves an exact id, then an exact name, then a unique id prefix', () => {
    expect(resolveContainerRef(ID_A, containers).Id).toBe(ID_A);
    expect(resolveContainerRef('web', containers).Id).toBe(ID_A);
    expect(resolveContainerRef('/web', containers).Id).toBe(ID_A);
    expect(resolveContainerRef('db.primary', containers).Id).toBe(ID_B);
    expect(resolveContainerRef('cd5', containers).Id).toBe(ID_C);
    // "ab12" is a name: the name wins over the id prefix, as in the engine.
    expect(resolveContainerRef('ab12', containers).Id).toBe(ID_C);
  });

  it('refuses an ambiguous prefix and an unknown reference', () => {
    expect(() => resolveContainerRef('ab', containers)).toThrow(
      'Container reference "ab" is ambiguous: it is a prefix of 2 container ids; give more of the id or the name',
    );
    expect(() => resolveContainerRef('nope', containers)).toThrow(
      'No container named or with id "nope" (list_containers with all=true lists them)',
    );
    // Names are exact: a prefix of a name does not select it.
    expect(() => resolveContainerRef('we', containers)).toThrow(/^No container named/);
  });
});
