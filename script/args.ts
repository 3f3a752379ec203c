import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { parseId } from '../internal/ids/index.js';
import { CliError, EXIT } from './cli-error.js';

/** commander argument parsers: a bad value exits 2 with a message saying what is expected. */
export const idArg = (what: string) => (v: string) => {
  const id = /^[1-9]/.test(v) ? parseId(v) : undefined;
  if (id === undefined) throw new InvalidArgumentError(`expected a decimal ${what} id`);
  return id;
};

export const intArg = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  return n;
};

export const timeArg = (v: string) => {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-11-27T00:00:00Z');
  return new Date(t);
};

/** Writes a value as JSON (bigints and Dates as strings). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`);
}

/** The text of an input file named on the command line; a file that cannot be read is bad usage (exit 2). */
export function readInputFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.USAGE);
  }
}
