import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { ifNoneMatchHit, searchRequestParams } from '../src/requests.ts';
import { SEARCH_REQUEST_SCHEMA } from '../src/schemas.ts';

describe('ifNoneMatchHit', () => {
  it.each([
    { header: undefined, version: 3, hit: false },
    { header: '', version: 3, hit: false },
    { header: 'W/"3"', version: 3, hit: true },
    { header: ' W/"3" ', version: 3, hit: true },
    { header: 'W/"2", W/"3"', version: 3, hit: true },
    { header: 'W/"2",W/"4"', version: 3, hit: false },
    { header: '*', version: 0, hit: true },
    { header: '  *  ', version: 9, hit: true },
    // Exact comparison with the weak tag we issue: a strong tag or another spelling never matches.
    { header: '"3"', version: 3, hit: false },
    { header: 'w/"3"', version: 3, hit: false },
    { header: 'W/"03"', version: 3, hit: false },
  ])('$header against version $version: $hit', ({ header, version, hit }) => {
    expect(ifNoneMatchHit(header, version)).toBe(hit);
  });
});

describe('searchRequestParams', () => {
  it.each([
    { body: { schemas: [SEARCH_REQUEST_SCHEMA], count: 2, filter: 'userName pr' }, params: { count: 2, filter: 'userName pr' } },
    { body: { schemas: ['urn:other', SEARCH_REQUEST_SCHEMA] }, params: {} },
  ])('keeps every parameter but schemas: $params', ({ body, params }) => {
    expect(searchRequestParams(body)).toEqual(params);
  });

  it.each([undefined, null, {}, { schemas: SEARCH_REQUEST_SCHEMA }, { schemas: ['urn:other'] }, { schemas: [SEARCH_REQUEST_SCHEMA.toLowerCase()] }])(
    'refuses %j with 400 invalidValue naming schemas',
    (body) => {
      let caught: unknown;
      try {
        searchRequestParams(body);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect(caught).toMatchObject({ status: 400, scimType: 'invalidValue', field: 'schemas', message: `schemas must include "${SEARCH_REQUEST_SCHEMA}"` });
    },
  );
});
