/** `@doorman/core/errors`, kept for existing imports: the errors are the contract's (@doorman/plugin-api). */
export * from '@doorman/plugin-api/errors';
