import { describe, expect, it } from 'vitest';
import { digestsEqual, hashSecret, timingSafeStringEqual } from '../src/secrets.ts';

const a = hashSecret('alpha');
const b = hashSecret('beta');

describe('digest comparison', () => {
  it.each([
    ['equal digests', a, a, true],
    ['different digests', a, b, false],
    ['one character off at the end', a, `${a.slice(0, -1)}${a.endsWith('0') ? '1' : '0'}`, false],
    ['a prefix', a, a.slice(0, 32), false],
    ['empty strings', '', '', false],
    ['headers that differ in one character', 'Bearer dmn_scim_x', 'Bearer dmn_scim_y', false],
  ])('%s', (_name, x, y, equal) => {
    expect(timingSafeStringEqual(x, y)).toBe(equal);
    if (/^[0-9a-f]*$/.test(x) && /^[0-9a-f]*$/.test(y)) expect(digestsEqual(x, y)).toBe(equal);
  });
});
