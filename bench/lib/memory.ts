/**
 * Agent memory: on Linux, VmHWM (peak resident set) and VmRSS from /proc/<pid>/status;
 * writing `5` to /proc/<pid>/clear_refs resets the peak, so each scenario gets its own.
 * For the compose stack, `docker stats` gives current usage only, sampled during a run.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MB = 1024 * 1024;

export interface ProcessMemory {
  rssMb: number;
  peakMb: number;
}

/** `VmHWM:  12345 kB` → bytes; undefined when absent. */
export function statusField(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'mu').exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

export async function processMemory(pid: number): Promise<ProcessMemory | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rss = statusField(status, 'VmRSS');
    const peak = statusField(status, 'VmHWM');
    if (rss === undefined || peak === undefined) return undefined;
    return { rssMb: mb(rss), peakMb: mb(peak) };
  } catch {
    return undefined;
  }
}

/** Resets the peak of each pid; false when the kernel or permissions refuse. */
export async function resetPeaks(pids: readonly number[]): Promise<boolean> {
  let all = true;
  for (const pid of pids) {
    try {
      await writeFile(`/proc/${pid}/clear_refs`, '5');
    } catch {
      all = false;
    }
  }
  return all;
}

function mb(bytes: number): number {
  return Math.round((bytes / MB) * 10) / 10;
}

const UNITS: Record<string, number> = { B: 1, KB: 1000, KIB: 1024, MB: 1000 ** 2, MIB: MB, GB: 1000 ** 3, GIB: 1024 ** 3 };

/** `"12.5MiB / 1.9GiB"` (docker stats MemUsage) → MB used. */
export function dockerMemUsage(text: string): number | undefined {
  const match = /^\s*([\d.]+)\s*([KMG]?i?B)\b/iu.exec(text);
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? '').toUpperCase()];
  return unit === undefined ? undefined : mb(Number(match[1]) * unit);
}

/** Current memory per compose service name, from `docker stats --no-stream --format json`. */
export async function dockerMemory(): Promise<Record<string, number>> {
  const { stdout } = await run('docker', ['stats', '--no-stream', '--format', 'json'], { maxBuffer: 16 * MB });
  const result: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { Name?: string; MemUsage?: string };
    const used = row.MemUsage ? dockerMemUsage(row.MemUsage) : undefined;
    if (row.Name && used !== undefined) result[row.Name] = used;
  }
  return result;
}
