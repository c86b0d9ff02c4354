/**
 * The folder against a model, over random steps: deliveries and renames by other
 * processes (as the MDA and POP3 make them), flag changes, expunges and appends of our
 * own, and reopening from the index file. After each step the folder must list exactly
 * the files on disk, in ascending unique UIDs that never change for a file's base name.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../shared/log.ts';
import { MaildirStore } from './maildir-store.ts';
import type { MailboxHandle } from './types.ts';

const account = { local: 'bob', domain: 'beta.test', address: 'bob@beta.test' };

/** A small deterministic generator, so a failure names a seed that replays it. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return state % n;
  };
}

async function filesOnDisk(maildir: string): Promise<Map<string, string>> {
  const bases = new Map<string, string>();
  for (const sub of ['new', 'cur']) {
    for (const name of await readdir(join(maildir, sub))) bases.set(name.split(':2,')[0] ?? name, `${sub}/${name}`);
  }
  return bases;
}

describe('Maildir folder against a model', () => {
  for (const seed of [1, 2, 3]) {
    it(`keeps UIDs stable and the listing exact over 150 random steps (seed ${seed})`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'mxlab-model-'));
      const pick = random(seed);
      let store = new MaildirStore(root, createLogger('mra-test'));
      let mail = await store.forUser(account);
      let inbox: MailboxHandle = await mail.open('INBOX');
      const maildir = join(root, 'beta.test', 'bob');
      const uidOf = new Map<string, number>();
      let delivered = 0;
      try {
        for (let step = 0; step < 150; step += 1) {
          const messages = inbox.messages();
          const any = () => messages[pick(messages.length)];
          switch (pick(7)) {
            case 0:
            case 1: {
              delivered += 1;
              const name = `${1_700_000_000 + delivered}.M${delivered}P1Q${delivered}.other,S=12`;
              await writeFile(join(maildir, 'new', name), 'Subject: x\r\n\r\n');
              break;
            }
            case 2: {
              // Another process marks a message seen (POP3 RETR): new/ → cur/ with :2,S.
              const files = await filesOnDisk(maildir);
              const entries = [...files.values()];
              const path = entries[pick(Math.max(entries.length, 1))];
              if (path !== undefined) {
                const [sub, name] = path.split('/') as [string, string];
                const base = name.split(':2,')[0] ?? name;
                await rename(join(maildir, sub, name), join(maildir, 'cur', `${base}:2,S`)).catch(() => undefined);
              }
              break;
            }
            case 3: {
              const target = any();
              if (target) await inbox.setFlags([target.uid], pick(2) === 0 ? 'add' : 'remove', ['\\Flagged', '$Work']);
              break;
            }
            case 4: {
              const chosen = messages.filter(() => pick(4) === 0).map((message) => message.uid);
              await inbox.expunge(chosen);
              break;
            }
            case 5: {
              // Another process deletes a file (a POP3 DELE then QUIT).
              const files = [...(await filesOnDisk(maildir)).values()];
              const path = files[pick(Math.max(files.length, 1))];
              if (path !== undefined) await unlink(join(maildir, path)).catch(() => undefined);
              break;
            }
            default: {
              if (pick(3) === 0) {
                await mail.append('INBOX', Buffer.from('Subject: appended\r\n\r\nbody\r\n'), ['\\Seen'], new Date(1_700_000_000_000));
              } else {
                // Reopen everything from the index file, as after a restart.
                await inbox.release();
                await store.close();
                store = new MaildirStore(root, createLogger('mra-test'));
                mail = await store.forUser(account);
                inbox = await mail.open('INBOX');
              }
            }
          }
          await inbox.sync();
          const listed = inbox.messages();
          const uids = listed.map((message) => message.uid);
          assert.deepEqual(uids, [...uids].sort((a, b) => a - b), `step ${step}: UIDs ascend`);
          assert.equal(new Set(uids).size, uids.length, `step ${step}: UIDs unique`);
          assert.ok(uids.every((uid) => uid < inbox.uidNext()), `step ${step}: below UIDNEXT`);
          const files = await filesOnDisk(maildir);
          assert.equal(listed.length, files.size, `step ${step}: one message per file`);
          for (const message of listed) {
            const header = await inbox.readHeader(message.uid);
            assert.match(header.toString(), /^Subject: /u, `step ${step}: UID ${message.uid} reads its own file`);
            assert.equal(inbox.get(message.uid)?.uid, message.uid);
          }
          // A base name keeps its UID for life (renames by others included).
          for (const base of uidOf.keys()) if (!files.has(base)) uidOf.delete(base);
          for (const message of listed) {
            const { base } = message as unknown as { base: string };
            const before = uidOf.get(base);
            if (before !== undefined) assert.equal(message.uid, before, `step ${step}: ${base} kept UID ${before}`);
            uidOf.set(base, message.uid);
          }
        }
      } finally {
        await inbox.release();
        await store.close();
        await rm(root, { recursive: true, force: true });
      }
    });
  }
});
