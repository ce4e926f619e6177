export * from './schemas.ts';
export * from './filter.ts';
export * from './patch.ts';
export * from './resource.ts';
export { parseAttrPath, formatAttrPath, type AttrPath } from './paths.ts';
