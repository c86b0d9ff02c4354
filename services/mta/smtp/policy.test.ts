import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UserDirectory } from '../../../shared/users.ts';
import { MailPolicy } from './policy.ts';
import { SmtpReplyError } from './replies.ts';
import { createTestLab, type TestLab } from '../testing/smtp.ts';

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    assert.ok(error instanceof SmtpReplyError, String(error));
    return `${error.responseCode} ${error.message}`;
  }
  return 'accepted';
}

describe('MailPolicy', () => {
  let lab: TestLab;
  let policy: MailPolicy;

  before(async () => {
    lab = await createTestLab();
    policy = new MailPolicy({ localDomains: ['alpha.test'], relayDomains: ['beta.test'], users: new UserDirectory(lab.usersDir) });
  });

  after(() => lab.remove());

  it('accepts local users and aliases, relay domains without a user check', async () => {
    assert.equal(await policy.inboundRecipient('Alice@Alpha.Test'), 'alice@alpha.test');
    assert.equal(await policy.inboundRecipient('postmaster@alpha.test'), 'postmaster@alpha.test');
    assert.equal(await policy.inboundRecipient('whoever@beta.test'), 'whoever@beta.test');
  });

  it('refuses relaying, unknown users and path tricks', async () => {
    assert.match(await refusal(policy.inboundRecipient('x@example.org')), /^550 5\.7\.1 Relay access denied$/u);
    assert.match(await refusal(policy.inboundRecipient('nobody@alpha.test')), /^550 5\.1\.1 /u);
    assert.match(await refusal(policy.inboundRecipient('../x@alpha.test')), /^501 5\.1\.3 /u);
  });

  it('lets a user send only from its own addresses', async () => {
    const account = await policy.authenticate('alice@alpha.test', 'secret');
    assert.ok(account);
    assert.equal(await policy.submissionSender(account, 'ALICE@alpha.test'), 'alice@alpha.test');
    assert.equal(await policy.submissionSender(account, 'postmaster@alpha.test'), 'postmaster@alpha.test');
    assert.match(await refusal(policy.submissionSender(account, 'bob@beta.test')), /^553 5\.7\.1 Sender address rejected: not owned by user$/u);
    assert.match(await refusal(policy.submissionSender(account, '')), /^553 /u);
    assert.equal(await policy.submissionRecipient('anyone@example.org'), 'anyone@example.org');
    assert.match(await refusal(policy.submissionRecipient('nobody@alpha.test')), /^550 5\.1\.1 /u);
    assert.equal(await policy.authenticate('alice@alpha.test', 'wrong'), undefined);
  });
});
