/**
 * The shape of the repository (issue 18): services meet over protocols or on disk, never
 * through each other's files; test code lives in `testing/` folders and production code
 * never imports it; no production file grows past 400 lines.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '..');
/** STYLE.md: past ~400 lines a file is probably two modules. */
const MAX_PRODUCTION_LINES = 400;

async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts')) found.push(path);
  }
  return found;
}

const isTest = (file: string) => file.endsWith('.test.ts') || file.split(sep).includes('testing');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]/gu;

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(join(root, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((match) => relative(root, resolve(root, dirname(file), match[1] ?? match[2] ?? '')));
}

const serviceOf = (file: string) => (file.startsWith(`services${sep}`) ? file.split(sep)[1] : undefined);

describe('repository layout (issue 18)', async () => {
  const files = [...(await sources('services')), ...(await sources('shared')), ...(await sources('scripts'))];

  it('no file under services/ imports another service\'s files', async () => {
    const crossings: string[] = [];
    for (const file of files.filter((item) => serviceOf(item) !== undefined)) {
      for (const target of await importsOf(file)) {
        const other = serviceOf(target);
        if (other !== undefined && other !== serviceOf(file) && !isTest(file)) crossings.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(crossings, []);
  });

  it('no production module imports test code', async () => {
    const leaks: string[] = [];
    for (const file of files.filter((item) => !isTest(item))) {
      for (const target of await importsOf(file)) if (isTest(target)) leaks.push(`${file} -> ${target}`);
    }
    assert.deepEqual(leaks, []);
  });

  it(`no production file passes ${MAX_PRODUCTION_LINES} lines`, async () => {
    const long: string[] = [];
    for (const file of files.filter((item) => !isTest(item))) {
      const lines = (await readFile(join(root, file), 'utf8')).split('\n').length - 1;
      if (lines > MAX_PRODUCTION_LINES) long.push(`${file}: ${lines}`);
    }
    assert.deepEqual(long, []);
  });
});
