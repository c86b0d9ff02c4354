/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and lists where the time went:
 * self time per function (file:line), and total time per file, highest first.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotSpot {
  name: string;
  selfMs: number;
  percent: number;
}

function frameName(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//u, '').replace(root, '');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

/** Self time per function; `root` is cut from file paths to keep them short. */
export function hotSpots(profile: CpuProfile, root = '', top = 20): { totalMs: number; functions: HotSpot[]; files: HotSpot[] } {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const hits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const msPerHit = hits === 0 ? 0 : totalMs / hits;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * msPerHit;
    if (ms === 0) continue;
    const name = frameName(node, root);
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const file = node.callFrame.url === '' ? `(${node.callFrame.functionName || 'native'})` : node.callFrame.url.replace(/^file:\/\//u, '').replace(root, '');
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  const rank = (map: Map<string, number>): HotSpot[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, selfMs]) => ({ name, selfMs: Math.round(selfMs), percent: Math.round((selfMs / totalMs) * 1000) / 10 }));
  return { totalMs: Math.round(totalMs), functions: rank(byFunction), files: rank(byFile) };
}

export async function readProfile(path: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
}
