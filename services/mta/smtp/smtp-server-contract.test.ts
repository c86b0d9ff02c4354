/**
 * The contract with smtp-server's private members (issue 18, Build 4). MtaConnection
 * (connection.ts) and LimitedLines (command-lines.ts) override or call members that are
 * not smtp-server's public API, so package.json pins the exact release, and this test
 * holds a fingerprint of each member's source as that release has it. An upgrade that
 * changes one fails here with what our code relies on, before a socket test fails
 * somewhere far from the cause.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

/** The release these fingerprints were read from; package.json pins it exactly. */
const CHECKED_VERSION = '3.21.6';

type Owner = 'SMTPConnection' | 'SMTPServer' | 'SMTPStream';

interface Member {
  owner: Owner;
  name: string;
  /** sha256 of the member's source, first 16 hex digits, at CHECKED_VERSION. */
  fingerprint: string;
  /** What our override or call relies on, for the failure message. */
  reliedOn: string;
}

/** Grouped by the feature each serves (connection.ts's header numbers them). */
const MEMBERS: readonly Member[] = [
  // (6) The greeting without the fixed 100 ms early-talker delay.
  { owner: 'SMTPConnection', name: 'init', fingerprint: '1265a7d7ca8f5510', reliedOn: 'MtaConnection.init() repeats it without the 100 ms wait: _setListeners(), the maxClients 421, then connectionReady()' },
  { owner: 'SMTPConnection', name: '_setListeners', fingerprint: 'cf07ab6f47db09ac', reliedOn: 'called by MtaConnection.init() with the callback that greets' },
  { owner: 'SMTPConnection', name: 'connectionReady', fingerprint: '361a2b1de88fbf67', reliedOn: 'called by MtaConnection.init() to send the 220 greeting' },
  // Over-long command lines skipped, and the mid-DATA cut of the fault plan (command-lines.ts).
  { owner: 'SMTPConnection', name: '_createParser', fingerprint: '15ca8c360137e06a', reliedOn: 'MtaConnection._createParser() returns LimitedLines wired as the library wires SMTPStream (oncommand, error → 421)' },
  { owner: 'SMTPStream', name: '_write', fingerprint: 'a72635ce53e24b3a', reliedOn: 'LimitedLines._write() filters lines before it and reads _dataMode, _maxCommandLength, _remainder, isClosed' },
  // (5) Postfix's error and junk-command limits, and (3) one RFC 3463 code on every reply.
  { owner: 'SMTPConnection', name: '_onCommand', fingerprint: '41c8a1b7a32aa314', reliedOn: 'MtaConnection._onCommand() reads _upgrading, _ready and _nextHandler before passing the line on' },
  { owner: 'SMTPConnection', name: 'send', fingerprint: 'c33568c0111a58b2', reliedOn: 'MtaConnection.send(code, data, context) adds or corrects the enhanced code and counts errors; context false sends data as it is' },
  // (2) The fault plan at each stage, and (4) parameters we do not implement refused.
  { owner: 'SMTPConnection', name: '_parseAddressCommand', fingerprint: '9f368803e4fdff15', reliedOn: 'called by MAIL/RCPT/VRFY overrides: returns { address, args } or false' },
  { owner: 'SMTPConnection', name: 'handler_MAIL', fingerprint: 'a40618dd2e16f0fa', reliedOn: 'wrapped: parameter check and fault plan before it' },
  { owner: 'SMTPConnection', name: 'handler_RCPT', fingerprint: 'ef2acd7214eaa466', reliedOn: 'wrapped: parameter check and fault plan before it' },
  { owner: 'SMTPConnection', name: 'handler_STARTTLS', fingerprint: '54e8a7f36219f4c0', reliedOn: 'wrapped: fault plan before it' },
  { owner: 'SMTPConnection', name: 'handler_RSET', fingerprint: '30da4d9e251522b6', reliedOn: 'wrapped: junk-command count' },
  { owner: 'SMTPConnection', name: 'handler_DATA', fingerprint: '9eceecf35f56cecd', reliedOn: 'wrapped: fault plan before it (incl. the mid-data cut)' },
  { owner: 'SMTPConnection', name: 'handler_VRFY', fingerprint: 'bf60f9186fa39e98', reliedOn: 'replaced: answered as Postfix does (252), never the library\'s user lookup' },
  { owner: 'SMTPConnection', name: 'handler_EHLO', fingerprint: '42394b3ad94f3deb', reliedOn: 'wrapped: AUTH left out of the list until TLS (reads session.disabledCommands synchronously)' },
  { owner: 'SMTPConnection', name: 'handler_HELO', fingerprint: 'b95050ffd35b5d29', reliedOn: 'wrapped: fault plan before it' },
  { owner: 'SMTPConnection', name: 'handler_AUTH', fingerprint: '2533179c785e8329', reliedOn: 'wrapped: 530 before TLS, base64 check, fault plan' },
  // MtaSmtpServer.connect(): the same as the library's, with MtaConnection and the connect-stage plan.
  { owner: 'SMTPServer', name: 'connect', fingerprint: '9818ea13a1c36459', reliedOn: 'MtaSmtpServer.connect() repeats it with MtaConnection: connections.add, error → _onError, connect → _onClientConnect, init()' },
  { owner: 'SMTPServer', name: '_onError', fingerprint: '01d6f6dc6b8d6e90', reliedOn: 'called from MtaSmtpServer.connect()' },
  { owner: 'SMTPServer', name: '_onClientConnect', fingerprint: '530fef2b2700ba7a', reliedOn: 'called from MtaSmtpServer.connect()' },
];

/** Instance fields read or written by our subclasses, and the class whose source sets them. */
const FIELDS: readonly { owner: Owner; field: string }[] = [
  { owner: 'SMTPConnection', field: '_server' },
  { owner: 'SMTPConnection', field: '_socket' },
  { owner: 'SMTPConnection', field: '_upgrading' },
  { owner: 'SMTPConnection', field: '_ready' },
  { owner: 'SMTPConnection', field: '_nextHandler' },
  { owner: 'SMTPStream', field: '_dataMode' },
  { owner: 'SMTPStream', field: '_maxCommandLength' },
  { owner: 'SMTPStream', field: '_remainder' },
  { owner: 'SMTPServer', field: 'connections' },
];

const CLASSES: Record<Owner, { prototype: object } & (abstract new (...args: never[]) => unknown)> = {
  SMTPConnection: SMTPConnection as never,
  SMTPServer: SMTPServer as never,
  SMTPStream: SMTPStream as never,
};

function fingerprint(source: string): string {
  return createHash('sha256').update(source).digest('hex').slice(0, 16);
}

const root = resolve(import.meta.dirname, '..', '..', '..');

describe(`smtp-server private members (checked against ${CHECKED_VERSION})`, () => {
  it('is pinned to exactly the checked release', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies['smtp-server'], CHECKED_VERSION, 'package.json must pin smtp-server exactly (no ^ or ~): its private members are overridden');
    const installed = (JSON.parse(await readFile(join(root, 'node_modules', 'smtp-server', 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(installed, CHECKED_VERSION, `smtp-server ${installed} is installed; the overrides were checked against ${CHECKED_VERSION}`);
  });

  for (const member of MEMBERS) {
    it(`${member.owner}.prototype.${member.name} is as checked`, () => {
      const value = (CLASSES[member.owner].prototype as Record<string, unknown>)[member.name];
      assert.equal(typeof value, 'function', `${member.owner}.prototype.${member.name} is gone; ${member.reliedOn}`);
      const now = fingerprint(String(value));
      assert.equal(
        now,
        member.fingerprint,
        `smtp-server changed ${member.owner}.prototype.${member.name} since ${CHECKED_VERSION}: ${member.reliedOn}. ` +
          'Re-read it (node_modules/smtp-server/lib/), adjust services/mta/smtp/connection.ts or command-lines.ts, then update the fingerprint here.',
      );
    });
  }

  for (const { owner, field } of FIELDS) {
    it(`${owner} still keeps this.${field}`, () => {
      const source = String(CLASSES[owner]);
      assert.ok(new RegExp(`this\\.${field}\\s*=(?!=)`, 'u').test(source), `${owner} no longer sets this.${field}, which services/mta/smtp reads`);
    });
  }
});
