/**
 * Turns a failed zod validation into the service's coded input error, so that every bad
 * request leaves through the one error table (errors.ts) with a code that names what was wrong.
 */
import type { ZodError } from 'zod';
import { InvalidInputError } from '../errors.js';

type InvalidCode = ConstructorParameters<typeof InvalidInputError>[0];
type Target = 'json' | 'form' | 'query' | 'param' | 'header' | 'cookie';

const CODE_BY_FIELD: Partial<Record<string, InvalidCode>> = {
  device_id: 'invalid_device_id',
  action: 'invalid_action',
  timezone: 'invalid_timezone',
  idempotency_key: 'invalid_idempotency_key',
};

/** The InvalidInputError for the first problem zod found in `target`. */
export function invalidInputFrom(target: Target, error: ZodError): InvalidInputError {
  const issue = error.issues[0];
  const field = issue?.path[0] === undefined ? null : String(issue.path[0]);
  const code: InvalidCode =
    (field !== null ? CODE_BY_FIELD[field] : undefined) ??
    (target === 'param' ? 'invalid_device_id' : target === 'query' ? 'invalid_query' : 'invalid_body');
  let message: string;
  if (!issue) message = 'invalid request';
  else if (field === null && target === 'json') {
    message = issue.code === 'invalid_type' ? 'the request body must be a JSON object' : issue.message;
  } else if (field !== null && !issue.message.includes(field)) message = `${field}: ${issue.message}`;
  else message = issue.message;
  return new InvalidInputError(code, message);
}
