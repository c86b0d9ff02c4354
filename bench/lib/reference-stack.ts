/**
 * The reference stack, run here beside mxlab: Debian's Postfix 3.7 (smtpd on an
 * MX port, delivering over LMTP) and Dovecot 2.3 (LMTP into Maildir, IMAP, POP3), each
 * with its own configuration and state under a temporary directory, listening on one
 * loopback address only, so mail never leaves the machine and /etc is left as it is.
 * Needs root (Postfix's master and Dovecot drop privileges themselves); absent packages
 * make `referenceAvailable()` false and the bench shows mxlab alone.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

const POSTFIX = '/usr/sbin/postfix';
const DOVECOT = '/usr/sbin/dovecot';
export const SMTP_SOURCE = '/usr/sbin/smtp-source';
/** Dovecot's mail processes run as nobody: a uid that owns nothing else. */
const MAIL_UID = 65534;
const MAIL_GID = 65534;
const START_TIMEOUT_MS = 20_000;

export interface ReferencePorts {
  smtp: number;
  imap: number;
  pop3: number;
  lmtp: number;
}

export interface ReferenceStack {
  host: string;
  ports: ReferencePorts;
  password: string;
  /** Maildir of user `local@domain`. */
  maildir(local: string, domain: string): string;
  /** Adds users to Dovecot's passwd-file, hashed with ARGON2ID (as strong as mxlab's scrypt: logins cost alike). */
  addUsers(addresses: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs a command that leaves a daemon behind: the daemon inherits its stdio, so output
 * goes to a file (pipes would stay open, and a wait for them would never end).
 */
async function startDaemon(command: string, args: readonly string[], errorFile: string): Promise<void> {
  const fd = openSync(errorFile, 'a');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${(await readFile(errorFile, 'utf8')).trim()}`);
  } finally {
    closeSync(fd);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Whether Postfix and Dovecot are installed and we may start them (root). */
export async function referenceAvailable(): Promise<boolean> {
  if (userInfo().uid !== 0) return false;
  return (await exists(POSTFIX)) && (await exists(DOVECOT));
}

function dovecotConf(dir: string, host: string, ports: ReferencePorts): string {
  return `# mxlab bench reference (generated)
base_dir = ${dir}/dovecot-run
state_dir = ${dir}/dovecot-state
instance_name = mxlab-bench-${host}
listen = ${host}
protocols = imap pop3 lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = ${dir}/dovecot.log
mail_location = maildir:${dir}/mail/%d/%n
mail_uid = ${MAIL_UID}
mail_gid = ${MAIL_GID}
first_valid_uid = ${MAIL_UID}
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=ARGON2ID username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${MAIL_UID} gid=${MAIL_GID} home=${dir}/home/%d/%n
}
service imap-login {
  inet_listener imap {
    address = ${host}
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = ${host}
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = ${host}
    port = ${ports.lmtp}
  }
}
service anvil {
  chroot =
}
protocol lmtp {
  postmaster_address = postmaster@beta.test
}
`;
}

function postfixMain(dir: string, host: string, ports: ReferencePorts, domains: readonly string[]): string {
  return `# mxlab bench reference (generated)
compatibility_level = 3.6
queue_directory = ${dir}/postfix-queue
data_directory = ${dir}/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.reference.test
# smtpd binds ${host} in master.cf; Postfix accepts only addresses of an interface here
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
virtual_mailbox_domains = ${domains.join(' ')}
virtual_transport = lmtp:inet:${host}:${ports.lmtp}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = ${dir}/postfix.log
maillog_file_prefixes = ${dir}
smtputf8_enable = no
alias_maps =
alias_database =
biff = no
`;
}

function postfixMaster(host: string, ports: ReferencePorts): string {
  return `# mxlab bench reference (generated): Debian's services, no chroot
${host}:${ports.smtp} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitListening(host: string, ports: readonly number[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (const port of ports) {
    while (!(await listening(host, port))) {
      if (Date.now() > deadline) throw new Error(`reference stack: nothing listens on ${host}:${port}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Starts Dovecot then Postfix on `host` (a loopback address of the caller's net) for
 * the given domains; `stop()` stops both and removes their state.
 */
export async function startReferenceStack(options: { host: string; domains: readonly string[]; password: string; ports?: Partial<ReferencePorts> }): Promise<ReferenceStack> {
  const { host, domains, password } = options;
  const ports: ReferencePorts = { smtp: 2525, imap: 2143, pop3: 2110, lmtp: 2424, ...options.ports };
  const dir = await mkdtemp(join(tmpdir(), 'mxlab-reference-'));
  await chmod(dir, 0o755);
  for (const sub of ['dovecot-run', 'dovecot-state', 'postfix', 'postfix-queue', 'postfix-data', 'mail', 'home']) await mkdir(join(dir, sub));
  await chown(join(dir, 'mail'), MAIL_UID, MAIL_GID);
  await chown(join(dir, 'home'), MAIL_UID, MAIL_GID);
  await chown(join(dir, 'postfix-data'), ...(await postfixIds()));
  await writeFile(join(dir, 'passwd'), '');
  await writeFile(join(dir, 'dovecot.conf'), dovecotConf(dir, host, ports));
  await writeFile(join(dir, 'postfix', 'main.cf'), postfixMain(dir, host, ports, domains));
  await writeFile(join(dir, 'postfix', 'master.cf'), postfixMaster(host, ports));
  const postfixConf = join(dir, 'postfix');
  let dovecotStarted = false;
  let postfixStarted = false;
  const stop = async (): Promise<void> => {
    if (postfixStarted) await startDaemon(POSTFIX, ['-c', postfixConf, 'stop'], join(dir, 'start.log')).catch(() => undefined);
    if (dovecotStarted) await startDaemon('/usr/bin/doveadm', ['-c', join(dir, 'dovecot.conf'), 'stop'], join(dir, 'start.log')).catch(() => undefined);
    // Both stop asynchronously: give their processes a moment before their files go.
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (process.env.BENCH_KEEP_STATE !== '1') await rm(dir, { recursive: true, force: true });
  };
  try {
    await startDaemon(DOVECOT, ['-c', join(dir, 'dovecot.conf')], join(dir, 'start.log'));
    dovecotStarted = true;
    await startDaemon(POSTFIX, ['-c', postfixConf, 'start'], join(dir, 'start.log'));
    postfixStarted = true;
    await waitListening(host, [ports.imap, ports.pop3, ports.lmtp, ports.smtp]);
  } catch (error) {
    await stop();
    throw error;
  }
  const users = new Set<string>();
  // One hash for the shared password, made by Dovecot itself (libsodium's Argon2id, 64 MiB, t=3).
  const { stdout: hashed } = await run('/usr/bin/doveadm', ['-c', join(dir, 'dovecot.conf'), 'pw', '-s', 'ARGON2ID', '-p', password]);
  const hash = hashed.trim();
  return {
    host,
    ports,
    password,
    maildir: (local, domain) => join(dir, 'mail', domain, local),
    addUsers: async (addresses) => {
      for (const address of addresses) users.add(address);
      await writeFile(join(dir, 'passwd'), [...users].map((user) => `${user}:${hash}::::::\n`).join(''));
      for (const address of addresses) {
        const [local, domain] = address.split('@') as [string, string];
        for (const sub of [join(dir, 'mail', domain), join(dir, 'home', domain)]) {
          await mkdir(sub, { recursive: true });
          await chown(sub, MAIL_UID, MAIL_GID);
        }
        void local;
      }
    },
    stop,
  };
}

async function postfixIds(): Promise<[number, number]> {
  const { stdout: uid } = await run('id', ['-u', 'postfix']);
  const { stdout: gid } = await run('id', ['-g', 'postfix']);
  return [Number(uid.trim()), Number(gid.trim())];
}

export { MAIL_UID as REFERENCE_MAIL_UID, MAIL_GID as REFERENCE_MAIL_GID };
