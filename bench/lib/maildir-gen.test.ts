import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildMessage, fillMaildir } from './maildir-gen.ts';

describe('buildMessage', () => {
  it('has headers, a blank line and about the asked body size, CRLF only', () => {
    const message = buildMessage({ from: 'a@b.test', to: 'c@d.test', subject: 's', messageId: '<m@x>', date: new Date(0) }, 4096);
    const text = message.toString('latin1');
    const split = text.indexOf('\r\n\r\n');
    assert.ok(split > 0);
    assert.ok(Math.abs(text.length - split - 4 - 4096) < 100);
    assert.doesNotMatch(text.replace(/\r\n/gu, ''), /\n/u);
    assert.doesNotMatch(text, /\r\n\./u);
  });
});

describe('fillMaildir', () => {
  it('writes unique, ordered names in new/ with the right S= size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-gen-'));
    try {
      fillMaildir({ maildir: dir, count: 1500, bodyBytes: 512, to: 'u@beta.test', label: 't' });
      const names = (await readdir(join(dir, 'new'))).sort();
      assert.equal(names.length, 1500);
      assert.equal(new Set(names.map((name) => name.split(',')[0])).size, 1500);
      assert.deepEqual(await readdir(join(dir, 'cur')), []);
      const first = names[0] ?? '';
      const size = Number(/,S=(\d+)$/u.exec(first)?.[1]);
      assert.equal((await stat(join(dir, 'new', first))).size, size);
      assert.match(await readFile(join(dir, 'new', first), 'latin1'), /^From: /u);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
