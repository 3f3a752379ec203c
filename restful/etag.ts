import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Conditional GET for a versioned resource: the ETag is the resource's revision (it changes with every
 * write), weak because the JSON may change shape between releases. True when If-None-Match already holds
 * it (the caller answers 304 without a body).
 */
export function notModified(req: FastifyRequest, reply: FastifyReply, id: string, revision: string): boolean {
  const tag = `W/"${id}.${revision}"`;
  reply.header('etag', tag);
  const given = req.headers['if-none-match'];
  if (typeof given !== 'string') return false;
  return given
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || t === tag || `W/${t}` === tag);
}
