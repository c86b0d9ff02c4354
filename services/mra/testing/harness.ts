/** Test harness: an MRA on port 0 over a temporary mail root, lab users, and an MDA-like delivery helper. */
import { AuthPenalty } from '../../../shared/auth-penalty.ts';
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureLabUsers } from '../../../shared/users.ts';
import { loadMraConfig, type MraConfig } from '../config.ts';
import { startMra, type MraDeps, type RunningMra } from '../server.ts';

/** The auth penalty's steps, short: tests that fail logins on purpose need not wait seconds. */
export const fastPenalty = () => new AuthPenalty({ initMs: 20, maxMs: 100 });

export interface Lab {
  dir: string;
  config: MraConfig;
  mra: RunningMra;
  imapPort: number;
  imapsPort: number;
  maildir(address: string): string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

let sharedUsers: string | undefined;

/** scrypt hashing is slow: the lab users are made once per test process and copied. */
async function usersDir(): Promise<string> {
  if (sharedUsers === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-mra-users-'));
    sharedUsers = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await ensureLabUsers(dir, 'secret');
  }
  return sharedUsers;
}

export async function startLab(env: Record<string, string> = {}, deps: MraDeps = {}): Promise<Lab> {
  const dir = await mkdtemp(join(tmpdir(), 'mxlab-mra-'));
  const config = loadMraConfig({
    MXLAB_USERS_DIR: await usersDir(),
    MXLAB_TLS_DIR: join(dir, 'tls'),
    MXLAB_MAIL_ROOT: join(dir, 'mail'),
    MRA_DOMAINS: 'alpha.test,beta.test',
    MRA_HOSTNAME: 'imap.alpha.test',
    MRA_TLS_NAMES: 'localhost,127.0.0.1',
    MRA_IMAP_LISTEN: '127.0.0.1:0',
    MRA_IMAPS_LISTEN: '127.0.0.1:0',
    MRA_POP3_LISTEN: '',
    MRA_POP3S_LISTEN: '',
    LOG_LEVEL: process.env.MXLAB_TEST_LOG === undefined ? 'silent' : 'debug',
    ...env,
  });
  const lab: Lab = {
    dir,
    config,
    mra: await startMra(config, { authFailureDelayMs: 10, penalty: fastPenalty(), ...deps }),
    imapPort: 0,
    imapsPort: 0,
    maildir: (address) => {
      const [local = '', domain = ''] = address.split('@');
      return join(config.MXLAB_MAIL_ROOT, domain, local);
    },
    async restart() {
      await lab.mra.close();
      const again = loadMraConfig({ ...process.env, ...flatten(config, lab.imapPort, lab.imapsPort) });
      lab.mra = await startMra(again, { authFailureDelayMs: 10, penalty: fastPenalty(), ...deps });
    },
    async close() {
      await lab.mra.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  lab.imapPort = lab.mra.imap[0]?.port ?? 0;
  lab.imapsPort = lab.mra.imaps[0]?.port ?? 0;
  return lab;
}

function flatten(config: MraConfig, imapPort: number, imapsPort: number): Record<string, string> {
  return {
    MXLAB_USERS_DIR: config.MXLAB_USERS_DIR,
    MXLAB_TLS_DIR: config.MXLAB_TLS_DIR,
    MXLAB_MAIL_ROOT: config.MXLAB_MAIL_ROOT,
    MRA_DOMAINS: config.MRA_DOMAINS.join(','),
    MRA_HOSTNAME: config.MRA_HOSTNAME,
    MRA_TLS_NAMES: config.MRA_TLS_NAMES.join(','),
    MRA_IMAP_LISTEN: `127.0.0.1:${imapPort}`,
    MRA_IMAPS_LISTEN: `127.0.0.1:${imapsPort}`,
    MRA_POP3_LISTEN: '',
    MRA_POP3S_LISTEN: '',
    LOG_LEVEL: config.LOG_LEVEL,
  };
}

let counter = 0;

/** Writes a message the way the MDA does: tmp/ then rename into new/. Returns the base name. */
export async function deliver(maildir: string, message: string | Buffer, folder = ''): Promise<string> {
  const dir = folder === '' ? maildir : join(maildir, `.${folder}`);
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(dir, sub), { recursive: true });
  counter += 1;
  const now = Date.now();
  const base = `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${counter}R${randomBytes(4).toString('hex')}.test`;
  await writeFile(join(dir, 'tmp', base), message);
  await rename(join(dir, 'tmp', base), join(dir, 'new', base));
  return base;
}

export function sampleMessage(subject: string, body = 'Hello Bob,\r\nthis is a test.\r\n'): string {
  return [
    'Return-Path: <alice@alpha.test>',
    'Delivered-To: bob@beta.test',
    'From: Alice Example <alice@alpha.test>',
    'To: Bob <bob@beta.test>, carol@beta.test',
    `Subject: ${subject}`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    `Message-ID: <${randomBytes(6).toString('hex')}@alpha.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
  ].join('\r\n');
}
