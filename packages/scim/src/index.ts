export * from './schemas.ts';
export * from './filter.ts';
export * from './patch.ts';
export * from './resource.ts';
export { parseAttrPath, formatAttrPath, findKey, isPlainObject, type AttrPath } from './paths.ts';
export * from './validate.ts';
export * from './requests.ts';
