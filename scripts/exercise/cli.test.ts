/**
 * The exercise CLI and registry without a lab: every check has its doc and every doc its
 * check, numbers are unique and titled, `list`/`show` print them, and usage mistakes
 * exit 2 with a message.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { main } from './cli.ts';
import { CHECKS_DIR, DOCS_DIR, listExercises } from './registry.ts';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk: Buffer, _encoding, done) { text += chunk.toString(); done(); } });
  return { stream, text: () => text };
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await main(args, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

describe('exercise registry', () => {
  const entries = listExercises();

  it('pairs every check module with its doc and every doc with its check', () => {
    assert.ok(entries.length > 0);
    for (const entry of entries) assert.ok(existsSync(entry.docPath), `${entry.name}: no ${entry.docPath}`);
    const docs = readdirSync(DOCS_DIR).filter((file) => /^\d{2}-.*\.md$/u.test(file));
    for (const doc of docs) assert.ok(existsSync(join(CHECKS_DIR, doc.replace(/\.md$/u, '.ts'))), `docs/lab/${doc} has no check`);
  });

  it('gives each doc a "# N. Title" heading with its own number and the four parts', () => {
    for (const entry of entries) {
      const text = readFileSync(entry.docPath, 'utf8');
      assert.match(text.split('\n')[0] ?? '', new RegExp(`^# ${entry.number}\\. \\S`, 'u'), entry.name);
      for (const part of ['**What you learn.**', '## Steps', '## What to look at', '## Your task', `check ${entry.number}`]) {
        assert.ok(text.includes(part), `${entry.name} lacks ${part}`);
      }
    }
  });

  it('lists each exercise in the guide\'s table', () => {
    const readme = readFileSync(join(DOCS_DIR, 'README.md'), 'utf8');
    for (const entry of entries) assert.ok(readme.includes(`(${entry.name}.md)`), `docs/lab/README.md does not link ${entry.name}.md`);
  });

  it('refuses two exercises with one number', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-exercises-'));
    await writeFile(join(dir, '07-one.ts'), 'export const check = async () => [];\n');
    await writeFile(join(dir, '07-two.ts'), 'export const check = async () => [];\n');
    assert.throws(() => listExercises(dir, dir), /two exercises numbered 7/u);
  });
});

describe('npm run exercise', () => {
  it('list prints one exercise a line, starting with its number', async () => {
    const { code, out } = await run(['list']);
    assert.equal(code, 0);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, listExercises().length);
    for (const line of lines) assert.match(line, /^\s?\d+\s{2}\S/u);
  });

  it('show N prints the exercise\'s text', async () => {
    const { code, out } = await run(['show', '1']);
    assert.equal(code, 0);
    assert.match(out, /^# 1\. /u);
  });

  it('exits 2 with a message on usage mistakes', async () => {
    for (const args of [[], ['show'], ['show', '99'], ['check', 'x'], ['frobnicate'], ['check', '1', '--answer']]) {
      const { code, err } = await run(args);
      assert.equal(code, 2, args.join(' '));
      assert.match(err, /^exercise: .+\nusage: /u, args.join(' '));
    }
  });

  it('check on no lab says it could not look and exits 1', async () => {
    const previous = { ...process.env };
    // A loopback net and ports where nothing listens.
    Object.assign(process.env, { MXLAB_LOOPBACK_NET: '127.59', MXLAB_BETA_IMAP_PORT: '9', MXLAB_ALPHA_IMAP_PORT: '9', MXLAB_DNS_PORT: '9', MXLAB_STATE_DIR: tmpdir() });
    try {
      const { code, out } = await run(['check', '1']);
      assert.equal(code, 1);
      assert.match(out, /✘ the check could not look at the lab: cannot log in to IMAP/u);
      assert.match(out, /Not done yet/u);
    } finally {
      process.env = previous;
    }
  });
});
