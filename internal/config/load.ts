import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type Config, configSchema } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const ENV_PREFIX = 'QIANFAN_';
export const DEFAULT_CONFIG_FILE = 'config/default.yaml';

type Raw = Record<string, unknown>;

/**
 * Loads config: the YAML file named by QIANFAN_CONFIG (default config/default.yaml), then every
 * QIANFAN_<SECTION>__<KEY> environment variable on top (e.g. QIANFAN_MYSQL__POOL_SIZE=32 sets
 * mysql.poolSize). Fails with one message naming every bad key, the value seen, where it came from
 * and the form expected.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const file = path.resolve(cwd, env.QIANFAN_CONFIG ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    throw new ConfigError(
      `config file ${file} does not exist (set QIANFAN_CONFIG to a YAML file, e.g. config/default.yaml)`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`config file ${file} must hold a YAML mapping of sections (service, http, mysql, ...)`);
  }
  const sources = new Map<string, string>();
  const merged = applyEnv(raw as Raw, env, sources);
  return validate(merged, file, sources);
}

function applyEnv(raw: Raw, env: NodeJS.ProcessEnv, sources: Map<string, string>): Raw {
  const out: Raw = structuredClone(raw);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || !name.includes('__') || value === undefined) continue;
    // QIANFAN_<SECTION>__<KEY>, or one level deeper for a nested block (QIANFAN_PAYMENT__SANDBOX__ENABLED).
    const parts = name.slice(ENV_PREFIX.length).split('__');
    const path: string[] = [];
    let shape: Record<string, unknown> | undefined = configSchema.shape;
    for (const part of parts) {
      const key = shape ? matchKey(Object.keys(shape), part) : undefined;
      if (!key) {
        shape = undefined;
        break;
      }
      path.push(key);
      shape = objectShape(shape?.[key]);
    }
    if (path.length !== parts.length || path.length < 2 || shape !== undefined) {
      throw new ConfigError(
        `environment variable ${name} names no config key (expected ${ENV_PREFIX}<SECTION>__<KEY>, e.g. ${ENV_PREFIX}MYSQL__POOL_SIZE)`,
      );
    }
    let target = out;
    for (const p of path.slice(0, -1)) {
      target[p] ??= {};
      target = target[p] as Raw;
    }
    target[path[path.length - 1]!] = value;
    sources.set(path.join('.'), `environment ${name}`);
  }
  return out;
}

/** The keys of an object schema (looking through .default()), or undefined for a leaf value. */
function objectShape(schema: unknown): Record<string, unknown> | undefined {
  let s = schema as { shape?: Record<string, unknown>; unwrap?: () => unknown } | undefined;
  for (let i = 0; s && !s.shape && typeof s.unwrap === 'function' && i < 3; i++) s = s.unwrap() as typeof s;
  return s?.shape;
}

function matchKey(keys: string[], envPart: string | undefined): string | undefined {
  if (!envPart) return undefined;
  const want = envPart.replaceAll('_', '').toLowerCase();
  return keys.find((k) => k.toLowerCase() === want);
}

function validate(merged: Raw, file: string, sources: Map<string, string>): Config {
  // Every section is optional in the file; its keys' defaults fill it in.
  for (const section of Object.keys(configSchema.shape)) merged[section] ??= {};
  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const secret = /password|secret|token|key$/i.test(key);
    const value = issue.code === 'unrecognized_keys' ? undefined : valueAt(merged, issue.path);
    const seen = secret && value !== undefined ? '<redacted>' : value;
    const where = sources.get(key) ?? file;
    const detail =
      issue.code === 'unrecognized_keys'
        ? `unknown key(s) ${issue.keys.join(', ')}`
        : `got ${seen === undefined ? 'nothing' : JSON.stringify(seen)}; ${issue.message}`;
    return `  - ${key || '(root)'}: ${detail} (from ${where})`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

function valueAt(obj: unknown, pathParts: PropertyKey[]): unknown {
  let cur = obj;
  for (const part of pathParts) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}
