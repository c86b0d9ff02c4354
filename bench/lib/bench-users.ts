/**
 * Bench users in the lab's user directory (`<usersDir>/<domain>.json`), added the way
 * `npm run users -- add` does: scrypt hashes only. The directory re-reads the file.
 */
import { hashPassword } from '../../shared/passwords.ts';
import { readDomainFile, writeDomainFile } from '../../shared/users.ts';

export async function addUsers(usersDir: string, domain: string, locals: readonly string[], password: string): Promise<void> {
  const file = (await readDomainFile(usersDir, domain)) ?? { domain, users: {}, aliases: {} };
  for (const local of locals) {
    if (!(local in file.users)) file.users[local] = { password: await hashPassword(password) };
  }
  await writeDomainFile(usersDir, file);
}
