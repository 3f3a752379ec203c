import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';

export const SCHEMA_VERSION = 1;

/** What every message body carries: schema version, event id, type, time, trace context, data. */
export interface Envelope<T = unknown> {
  schemaVersion: number;
  eventId: string;
  type: string;
  occurredAt: string;
  trace: Record<string, string>;
  data: T;
}

export function newEnvelope<T>(type: string, data: T, eventId: string = randomUUID()): Envelope<T> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return { schemaVersion: SCHEMA_VERSION, eventId, type, occurredAt: new Date().toISOString(), trace: carrier, data };
}

export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

/**
 * A message of a newer schema than this release reads (a newer producer during a rolling deploy): not
 * malformed, so it is retried (transient) until a release that reads it consumes it, never parked.
 */
export class NewerSchemaError extends Error {
  override name = 'NewerSchemaError';
}

export function encodeEnvelope(env: Envelope): Buffer {
  return Buffer.from(JSON.stringify(env));
}

/** Parses a body; throws MalformedMessageError (never retried: it cannot get better) when it is not an envelope. */
export function decodeEnvelope(body: Buffer): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MalformedMessageError('message body is not JSON');
  }
  const e = parsed as Partial<Envelope>;
  if (typeof e !== 'object' || e === null || typeof e.eventId !== 'string' || typeof e.type !== 'string') {
    throw new MalformedMessageError('message body is not an event envelope (eventId and type are required)');
  }
  if (typeof e.schemaVersion !== 'number' || !Number.isInteger(e.schemaVersion) || e.schemaVersion < 1) {
    throw new MalformedMessageError(`unsupported schema version ${String(e.schemaVersion)}`);
  }
  if (e.schemaVersion > SCHEMA_VERSION) {
    throw new NewerSchemaError(
      `schema version ${e.schemaVersion} is newer than this release reads (${SCHEMA_VERSION}); retrying until an upgraded consumer takes it`,
    );
  }
  return { trace: {}, occurredAt: '', data: undefined, ...e } as Envelope;
}
