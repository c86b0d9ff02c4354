/**
 * The docker CLI, for what testcontainers does not cover: the networks in use (subnet.ts)
 * and a container's whole log. It runs with the caller's environment (DOCKER_HOST, …).
 */
import { execFile } from 'node:child_process';

const COMMAND_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export function docker(args: readonly string[], options: { merge?: boolean; env?: Record<string, string> } = {}): Promise<string> {
  const env = { ...process.env, ...options.env };
  return new Promise((resolve, reject) => {
    execFile('docker', args, { env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.join(' ')}: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(options.merge ? stdout + stderr : stdout);
    });
  });
}
