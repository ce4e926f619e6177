import { defineError, ModelError } from '@doorman/plugin-api';

/*
 * The data layer's coded errors (docs/errors.md). All are ModelErrors (RuntimeErrors): a failure of
 * the gateway or its database, never of a caller's input.
 */

/** Another transaction created an account for this email meanwhile: retry the transaction to use it. */
export const AccountEmailTaken = defineError('DMN_MODEL_ACCOUNT_EMAIL_TAKEN', ModelError, 'an account for this email was created concurrently');
/** Five random username candidates were all taken. */
export const UsernameExhausted = defineError('DMN_MODEL_USERNAME_EXHAUSTED', ModelError, 'could not generate a unique username in 5 attempts');
/** Code asked the row codec for a property its entity does not have, or an INSERT's rows differ in shape. */
export const RowShapeInvalid = defineError('DMN_MODEL_ROW_SHAPE_INVALID', ModelError);
/** Another process held the migration lock for longer than the time limit. */
export const MigrationLockTimeout = defineError('DMN_MODEL_MIGRATION_LOCK_TIMEOUT', ModelError);
/** DATABASE_URL names a scheme Doorman does not speak, or the data source lacks what it needs. */
export const DatabaseUrlInvalid = defineError('DMN_MODEL_DATABASE_URL_INVALID', ModelError);
/** The database named by DATABASE_URL cannot be opened (the message says what to do). */
export const DatabaseOpenError = defineError('DMN_DATABASE_OPEN_FAILED', ModelError);
