import { AppError } from './app-error.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The path (segments, outermost first) of the first string in `value` (deeply) holding a lone UTF-16
 * surrogate, if any. The path is built only for the string found.
 */
function findLoneSurrogate(value: unknown): Array<string | number> | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? [] : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findLoneSurrogate(value[i]);
      if (p) return [i, ...p];
    }
  } else if (value && typeof value === 'object') {
    for (const k of Object.keys(value)) {
      const p = findLoneSurrogate((value as Record<string, unknown>)[k]);
      if (p) return [k, ...p];
    }
  }
  return undefined;
}

const pathText = (segments: Array<string | number>) =>
  segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

/**
 * Refuses text that is not valid Unicode (a lone UTF-16 surrogate, e.g. from a JSON "\ud800" escape):
 * MySQL's utf8mb4 cannot store it, so it is a 400 / INVALID_ARGUMENT naming the field, never a 500.
 */
export function rejectInvalidText(value: unknown, what: string): void {
  const found = findLoneSurrogate(value);
  if (found !== undefined) {
    const at = pathText(found);
    throw new AppError(
      'VALIDATION_FAILED',
      `${what}${at ? ` field ${at}` : ''} is not valid Unicode (lone surrogate)`,
      {
        field: at,
      },
    );
  }
}
