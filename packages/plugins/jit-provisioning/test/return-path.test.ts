import { describe, expect, it } from 'vitest';
import { isReturnPath } from '../src/identity.ts';

// `/sso/login?return=` may only send the browser back to a path on this deployment (no open redirect).
describe('isReturnPath', () => {
  it.each([
    ['/console/?sso=return', true],
    ['/console', true],
    ['/', true],
    ['//evil.example/x', false],
    ['/\\evil.example', false],
    ['https://evil.example/', false],
    ['console/', false],
    ['', false],
    ['/console/\nSet-Cookie:x', false],
    [`/${'a'.repeat(300)}`, false],
  ])('%j → %s', (path, ok) => {
    expect(isReturnPath(path)).toBe(ok);
  });
});
