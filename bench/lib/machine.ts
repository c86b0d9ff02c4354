/** Where and on what a run was made: machine, date, commit, Node version. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface RunContext {
  date: string;
  commit: string;
  dirty: boolean;
  node: string;
  machine: { cores: number; memoryGb: number; cpuModel: string; platform: string; kernel: string };
  /** 1-minute load average at the start and at the end: other work on the machine skews the figures. */
  loadAverage: { start: number; end: number };
}

function git(args: string[], cwd: string): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export function loadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

export function runContext(root: string, startLoad: number, now = new Date()): RunContext {
  const cpus = os.cpus();
  return {
    date: now.toISOString(),
    commit: git(['rev-parse', 'HEAD'], root),
    dirty: git(['status', '--porcelain', '--untracked-files=no'], root) !== '',
    node: process.version,
    machine: {
      cores: os.availableParallelism(),
      memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      platform: `${os.platform()} ${os.arch()}`,
      kernel: os.release(),
    },
    loadAverage: { start: startLoad, end: loadAverage() },
  };
}
