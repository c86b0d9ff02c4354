/**
 * `npm run users -- <command>`: manage the user directory without ever writing a
 * plain-text password. The folder is MXLAB_USERS_DIR, or the no-Docker lab's `.lab/users`.
 *
 *   add <address>              ask for a password (or read it from stdin) and store its scrypt hash
 *   passwd <address>           change a password
 *   alias <alias> <address>    deliver <alias> to an existing user of the same domain
 *   remove <address>           remove a user or an alias
 *   list [domain]              users and aliases
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { parseAddress } from '../shared/address.ts';
import { hashPassword } from '../shared/passwords.ts';
import { readDomainFile, writeDomainFile, type DomainFile } from '../shared/users.ts';

const MIN_PASSWORD_LENGTH = 6;

function fail(message: string): never {
  process.stderr.write(`users: ${message}\n`);
  process.exit(2);
}

function address(text: string | undefined): { local: string; domain: string } {
  if (text === undefined) fail('an address is required');
  const parsed = parseAddress(text);
  if (!parsed.ok) fail(`${JSON.stringify(text)}: ${parsed.reason}`);
  return { local: parsed.address.local.toLowerCase(), domain: parsed.address.domain };
}

async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/u)[0] ?? '';
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const muted = rl as unknown as { _writeToOutput: (text: string) => void };
  process.stdout.write(prompt);
  muted._writeToOutput = () => {};
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stdout.write('\n');
  return answer;
}

async function newPassword(): Promise<string> {
  const password = await readPassword('Password: ');
  if (password.length < MIN_PASSWORD_LENGTH) fail(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  return password;
}

async function load(dir: string, domain: string): Promise<DomainFile> {
  return (await readDomainFile(dir, domain)) ?? { domain, users: {}, aliases: {} };
}

async function main(argv: string[]): Promise<void> {
  const dir = process.env.MXLAB_USERS_DIR ?? join(process.cwd(), '.lab', 'users');
  const [command, first, second] = argv;
  switch (command) {
    case 'add':
    case 'passwd': {
      const { local, domain } = address(first);
      const file = await load(dir, domain);
      if (command === 'add' && (local in file.users || local in file.aliases)) fail(`${local}@${domain} exists already`);
      if (command === 'passwd' && !(local in file.users)) fail(`no user ${local}@${domain}`);
      file.users[local] = { password: await hashPassword(await newPassword()) };
      await writeDomainFile(dir, file);
      process.stdout.write(`${command === 'add' ? 'added' : 'changed the password of'} ${local}@${domain} in ${dir}\n`);
      return;
    }
    case 'alias': {
      const alias = address(first);
      const target = address(second);
      if (alias.domain !== target.domain) fail('an alias must be in the same domain as its user');
      const file = await load(dir, alias.domain);
      if (!(target.local in file.users)) fail(`no user ${target.local}@${target.domain}`);
      if (alias.local in file.users) fail(`${alias.local}@${alias.domain} is a user`);
      file.aliases[alias.local] = target.local;
      await writeDomainFile(dir, file);
      process.stdout.write(`${alias.local}@${alias.domain} now delivers to ${target.local}@${target.domain}\n`);
      return;
    }
    case 'remove': {
      const { local, domain } = address(first);
      const file = await load(dir, domain);
      if (!(local in file.users) && !(local in file.aliases)) fail(`no user or alias ${local}@${domain}`);
      delete file.users[local];
      delete file.aliases[local];
      for (const [alias, target] of Object.entries(file.aliases)) if (target === local) delete file.aliases[alias];
      await writeDomainFile(dir, file);
      process.stdout.write(`removed ${local}@${domain}\n`);
      return;
    }
    case 'list': {
      const names = first ? [`${first.toLowerCase()}.json`] : (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.json'));
      for (const name of names.sort()) {
        const file = await readDomainFile(dir, name.slice(0, -'.json'.length));
        if (!file) continue;
        for (const local of Object.keys(file.users).sort()) process.stdout.write(`${local}@${file.domain}\n`);
        for (const [alias, target] of Object.entries(file.aliases)) process.stdout.write(`${alias}@${file.domain} -> ${target}@${file.domain}\n`);
      }
      return;
    }
    default:
      fail('usage: npm run users -- add|passwd <address> | alias <alias> <address> | remove <address> | list [domain]');
  }
}

await main(process.argv.slice(2));
