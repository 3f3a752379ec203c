import { AppError } from './app-error.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path of the first string in `value` (deeply) holding a lone UTF-16 surrogate, if any. */
function findLoneSurrogate(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = findLoneSurrogate(v, `${path}[${i}]`);
      if (p) return p;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = findLoneSurrogate(v, path ? `${path}.${k}` : k);
      if (p) return p;
    }
  }
  return undefined;
}

/**
 * Refuses text that is not valid Unicode (a lone UTF-16 surrogate, e.g. from a JSON "\ud800" escape):
 * MySQL's utf8mb4 cannot store it, so it is a 400 / INVALID_ARGUMENT naming the field, never a 500.
 */
export function rejectInvalidText(value: unknown, what: string): void {
  const at = findLoneSurrogate(value, '');
  if (at !== undefined) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${what}${at ? ` field ${at}` : ''} is not valid Unicode (lone surrogate)`,
      {
        field: at,
      },
    );
  }
}
