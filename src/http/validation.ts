/**
 * JSON-schema validation of bodies, queries and path parameters (ajv). Every schema is closed
 * (`additionalProperties: false`); a failure becomes a 400 problem listing each field.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { ProblemError, type FieldError, type ProblemKind } from './problem';

const bodyAjv = new Ajv({ allErrors: true, strict: true });
addFormats(bodyAjv);
/** Query strings are strings: numbers are coerced, nothing else. */
const queryAjv = new Ajv({ allErrors: true, strict: true, coerceTypes: true });
addFormats(queryAjv);

export type Validator<T> = (value: unknown, where: 'body' | 'query' | 'path') => T;

function compile<T>(ajv: Ajv, schema: object): Validator<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value, where) => {
    if (validate(value)) return value as T;
    throw new ProblemError('validation', `the request ${where} is invalid`, fieldErrors(validate.errors ?? [], where));
  };
}

export const bodyValidator = <T>(schema: object): Validator<T> => compile<T>(bodyAjv, schema);
export const queryValidator = <T>(schema: object): Validator<T> => compile<T>(queryAjv, schema);

export function fieldErrors(errors: readonly ErrorObject[], where: string): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of errors) {
    const item = fieldError(error, where);
    const key = `${item.field}\n${item.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}

function fieldError(error: ErrorObject, where: string): FieldError {
  const path = error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return { field: `${path}/${String(params.additionalProperty)}`, message: 'is not allowed' };
  }
  if (error.keyword === 'required') {
    return { field: `${path}/${String(params.missingProperty)}`, message: 'is required' };
  }
  if (path === '' && error.keyword === 'type') {
    return { field: '', message: `the ${where} must be ${String(params.type)}` };
  }
  return { field: path, message: error.message ?? 'is invalid' };
}

/** A path parameter checked against a pattern: garbage is a 400, never a lookup. */
export function pathParam(value: unknown, name: string, pattern: RegExp, expected: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new ProblemError('validation', `path parameter ${name} must be ${expected}`, [
      { field: name, message: `must be ${expected}` },
    ]);
  }
  return value;
}

export function fail(kind: ProblemKind, detail: string, errors?: FieldError[]): never {
  throw new ProblemError(kind, detail, errors);
}
