/**
 * Config is read from the environment once, at start, and validated with zod. Each
 * service declares its own schema with the contract's defaults; this module holds the
 * shared field types and the one loader that turns a bad variable into a clear error.
 */
import { z } from 'zod';

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(value: string, defaultPort?: number): HostPort {
  const text = value.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else {
    const colon = text.lastIndexOf(':');
    if (colon === -1) {
      host = text;
    } else {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  const port = portText === undefined ? defaultPort : Number(portText);
  if (host === '' || port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`expected host:port, got ${JSON.stringify(value)}`);
  }
  return { host, port };
}

/** `host:port` */
export const hostPortField = z.string().transform((value, ctx): HostPort => {
  try {
    return parseHostPort(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Comma-separated `host:port` list; empty means "do not listen". */
export const listenListField = z.string().transform((value, ctx): HostPort[] => {
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  try {
    return items.map((item) => parseHostPort(item));
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Comma-separated list of lower-cased words (domains, names). */
export const listField = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== ''));

export const booleanField = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const durationMsField = z.coerce.number().int().nonnegative();

export const logLevelField = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates `env` against `schema` once; every bad variable is named in the error. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
