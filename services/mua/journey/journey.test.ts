import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReceived } from '../../../shared/received.ts';
import { journeyOf } from './journey.ts';
import { parseReceived } from './received.ts';
import { parseAuthenticationResults, parseRuleList, readVerdict } from './verdict.ts';
import { parseHeaderBlock } from './headers.ts';

const T0 = Date.parse('2026-11-23T16:15:10Z');

/** The message of DESIGN.md's journey, alice@alpha.test → bob@beta.test, as the agents write it. */
function labMessage(): string {
  const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };
  const submission = buildReceived({
    helo: 'mail.alpha.test', clientAddress: '127.28.0.6', by: 'mx.alpha.test', software: 'mxlab alpha-mta',
    protocol: 'ESMTP', tls, authUser: 'alice@alpha.test', id: 'Q1', for: 'bob@beta.test', date: new Date(T0 + 1000),
  });
  const relay = buildReceived({
    helo: 'mx.alpha.test', clientAddress: '127.28.0.10', clientHostname: 'mx.alpha.test', by: 'mx1.beta.test',
    software: 'mxlab beta-mx1', protocol: 'ESMTP', tls, id: 'Q2', for: 'bob@beta.test', date: new Date(T0 + 3000),
  });
  const delivery = buildReceived({
    helo: 'mx1.beta.test', clientAddress: '127.28.0.20', by: 'lmtp.beta.test', software: 'mxlab beta-mda',
    protocol: 'LMTP', id: 'D3', for: 'bob@beta.test', date: new Date(T0 + 4000),
  });
  return [
    'Return-Path: <alice@alpha.test>',
    'Delivered-To: bob@beta.test',
    delivery.trimEnd(),
    'X-Spam-Flag: NO',
    'X-Spam-Score: 1.3',
    'X-Spam-Status: No, score=1.3 required=5.0 tests=MISSING_MID=0.5,\r\n\tHTML_ONLY=0.8 autolearn=no',
    'X-Virus-Scanned: mxlab caller (builtin)',
    'X-Virus-Status: Clean',
    'Authentication-Results: mx1.beta.test; spf=pass smtp.mailfrom=alice@alpha.test; dkim=none',
    relay.trimEnd(),
    submission.trimEnd(),
    'From: Alice <alice@alpha.test>',
    'To: bob@beta.test',
    'Subject: hello',
    'Date: Mon, 23 Nov 2026 16:15:10 +0000',
    'User-Agent: mxlab web mail',
    '',
    'body',
  ].join('\r\n');
}

describe('journey', () => {
  it('puts the hops in the order they happened, with protocol, TLS, auth and delays', () => {
    const journey = journeyOf(labMessage());
    assert.deepEqual(journey.hops.map((hop) => hop.agent), ['alpha-mta', 'beta-mx1', 'beta-mda']);
    assert.deepEqual(journey.hops.map((hop) => hop.protocol), ['ESMTPSA', 'ESMTPS', 'LMTP']);
    assert.deepEqual(journey.hops.map((hop) => hop.kind), ['submission', 'relay', 'delivery']);
    assert.deepEqual(journey.hops.map((hop) => hop.tls), [true, true, false]);
    assert.deepEqual(journey.hops.map((hop) => hop.authenticated), [true, false, false]);
    assert.deepEqual(journey.hops.map((hop) => hop.delayMs), [1000, 2000, 1000]);
    assert.equal(journey.hops[0]?.authUser, 'alice@alpha.test');
    assert.equal(journey.hops[0]?.cipher, 'TLS_AES_256_GCM_SHA384');
    assert.equal(journey.hops[1]?.fromHost, 'mx.alpha.test');
    assert.equal(journey.hops[1]?.fromAddress, '127.28.0.10');
    assert.equal(journey.totalMs, 4000);
    assert.equal(journey.userAgent, 'mxlab web mail');
    assert.equal(journey.returnPath, 'alice@alpha.test');
    assert.deepEqual(journey.deliveredTo, ['bob@beta.test']);
  });

  it('places the verdict after the hop that ran the filter, with its rule hits', () => {
    const journey = journeyOf(labMessage());
    assert.equal(journey.verdictAfterStep, 2);
    assert.equal(journey.verdict?.spam?.isSpam, false);
    assert.equal(journey.verdict?.spam?.score, 1.3);
    assert.equal(journey.verdict?.spam?.threshold, 5);
    assert.deepEqual(journey.verdict?.spam?.rules, [{ name: 'MISSING_MID', score: 0.5 }, { name: 'HTML_ONLY', score: 0.8 }]);
    assert.equal(journey.verdict?.virus?.status, 'clean');
    assert.equal(journey.authenticationResults[0]?.results[0]?.result, 'pass');
  });

  it('gives the verdict to the relay hop when the MTA put its Received above the verdict', () => {
    const lines = labMessage().split('\r\n');
    const mx1 = lines.findIndex((line) => line.startsWith('Received: from mx.alpha.test'));
    const mx1Field = lines.splice(mx1, 4);
    const firstVerdict = lines.findIndex((line) => line.startsWith('X-Spam-Flag'));
    lines.splice(firstVerdict, 0, ...mx1Field);
    const journey = journeyOf(lines.join('\r\n'));
    assert.deepEqual(journey.hops.map((hop) => hop.agent), ['alpha-mta', 'beta-mx1', 'beta-mda']);
    assert.equal(journey.verdictAfterStep, 2);
  });

  it('places each Authentication-Results at the hop that wrote it, and reads the newest DMARC result', () => {
    const journey = journeyOf(labMessage());
    assert.equal(journey.authenticationResults[0]?.step, 2);
    assert.equal(journey.senderCheck, undefined, 'no dmarc result in this one');

    const lines = labMessage().split('\r\n');
    const ar = lines.findIndex((line) => line.startsWith('Authentication-Results:'));
    lines.splice(ar, 1,
      'Authentication-Results: mx1.beta.test;',
      ' dkim=fail (body hash did not verify) header.d=beta.test header.s=lab1 header.a=rsa-sha256;',
      ' spf=fail (mx1.beta.test: domain of carol@beta.test does not designate 203.0.113.7 as permitted sender) smtp.mailfrom=beta.test;',
      ' dmarc=fail (p=QUARANTINE arc=none) policy.dmarc=quarantine header.from=beta.test');
    // A field planted by the sender below every Received: no hop wrote it.
    const from = lines.findIndex((line) => line.startsWith('From:'));
    lines.splice(from, 0, 'Authentication-Results: mx1.beta.test; dmarc=pass header.from=beta.test');
    const failed = journeyOf(lines.join('\r\n'));
    assert.deepEqual(failed.authenticationResults.map((results) => results.step), [2, 2]);
    const [first] = failed.authenticationResults;
    assert.deepEqual(first?.results.map((result) => [result.method, result.result]), [['dkim', 'fail'], ['spf', 'fail'], ['dmarc', 'fail']]);
    assert.equal(first?.results[0]?.comment, 'body hash did not verify');
    assert.match(first?.raw ?? '', /^mx1\.beta\.test; dkim=fail/u);
    assert.deepEqual(failed.senderCheck, {
      authservId: 'mx1.beta.test', step: 2, dmarc: 'fail', domain: 'beta.test', policy: 'quarantine', comment: 'p=QUARANTINE arc=none', forgiven: false,
    });
  });

  it('tells a planted Authentication-Results from a hop\'s own, and a forgiven DMARC failure', () => {
    const lines = labMessage().split('\r\n');
    const ar = lines.findIndex((line) => line.startsWith('Authentication-Results:'));
    lines.splice(ar, 1, 'Authentication-Results: mx1.beta.test; arc=pass; dmarc=fail (local policy: trusted ARC sealer beta.test) (p=REJECT arc=pass) policy.dmarc=reject header.from=alpha.test');
    const from = lines.findIndex((line) => line.startsWith('From:'));
    lines.splice(from, 0, 'Authentication-Results: mail.forger.example; dmarc=pass header.from=alpha.test');
    const journey = journeyOf(lines.join('\r\n'));
    assert.deepEqual(journey.authenticationResults.map((results) => [results.authservId, results.step]), [['mx1.beta.test', 2], ['mail.forger.example', undefined]]);
    assert.equal(journey.senderCheck?.dmarc, 'fail');
    assert.equal(journey.senderCheck?.forgiven, true);
    assert.equal(journey.senderCheck?.policy, 'reject');
  });

  it('reads the ARC seal a forwarding hop put on, at that hop, with what it vouched for', () => {
    const lines = labMessage().split('\r\n');
    const submission = lines.findIndex((line) => line.startsWith('Received: from mail.alpha.test'));
    // beta-mx2 between alpha-mta and beta-mx1: its ARC set on top of its Received.
    const mx2 = buildReceived({
      helo: 'mx.alpha.test', clientAddress: '127.28.0.10', by: 'mx2.beta.test', software: 'mxlab beta-mx2',
      protocol: 'ESMTP', id: 'Q9', for: 'bob@beta.test', date: new Date(T0 + 2000),
    }).trimEnd();
    lines.splice(submission, 0,
      'ARC-Seal: i=1; a=rsa-sha256; t=1796304744; cv=none; d=beta.test; s=lab1;',
      ' b=AAAA',
      'ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=beta.test; s=lab1; b=BBBB',
      'ARC-Authentication-Results: i=1; mx2.beta.test;',
      ' dkim=pass header.d=alpha.test header.s=lab1; spf=pass smtp.mailfrom=alpha.test;',
      ' dmarc=pass (p=REJECT arc=none) policy.dmarc=reject header.from=alpha.test',
      mx2);
    const journey = journeyOf(lines.join('\r\n'));
    assert.deepEqual(journey.hops.map((hop) => hop.agent), ['alpha-mta', 'beta-mx2', 'beta-mx1', 'beta-mda']);
    assert.equal(journey.arcSeals.length, 1);
    assert.equal(journey.verdictAfterStep, 3, 'the verdict stays with beta-mx1');

    // As the lab's MX writes its block: Received, Authentication-Results, the verdict; the backup's ARC set and Received below.
    const block = lines.filter((line) => !/^(X-Spam|X-Virus|Authentication-Results)/u.test(line) && !line.startsWith('\ttests='));
    const mx1 = block.findIndex((line) => line.startsWith('Received: from mx.alpha.test'));
    const mx1Field = block.splice(mx1, 4);
    const arcAt = block.findIndex((line) => line.startsWith('ARC-Seal'));
    block.splice(arcAt, 0, ...mx1Field, 'Authentication-Results: mx1.beta.test; arc=pass; dmarc=pass header.from=alpha.test', 'X-Spam-Flag: NO', 'X-Spam-Score: 0.1');
    const ordered = journeyOf(block.join('\r\n'));
    assert.deepEqual(ordered.hops.map((hop) => hop.agent), ['alpha-mta', 'beta-mx2', 'beta-mx1', 'beta-mda']);
    assert.equal(ordered.verdictAfterStep, 3, 'the verdict below beta-mx1\'s own Received and Authentication-Results is beta-mx1\'s');
    assert.deepEqual(ordered.authenticationResults.map((results) => [results.authservId, results.step]), [['mx1.beta.test', 3]]);
    const [seal] = journey.arcSeals;
    assert.deepEqual([seal?.instance, seal?.domain, seal?.selector, seal?.chain, seal?.authservId, seal?.step], [1, 'beta.test', 'lab1', 'none', 'mx2.beta.test', 2]);
    assert.deepEqual(seal?.results.map((result) => `${result.method}=${result.result}`), ['dkim=pass', 'spf=pass', 'dmarc=pass']);
    assert.deepEqual(journeyOf(labMessage()).arcSeals, []);
  });

  it('reads a message with no trace fields as an empty journey', () => {
    const journey = journeyOf('Subject: draft\r\n\r\nhi');
    assert.deepEqual(journey.hops, []);
    assert.equal(journey.verdict, undefined);
  });
});

describe('Received parser', () => {
  it('reads a Postfix field with TLS in a comment', () => {
    const hop = parseReceived(
      'from mail.example.org (mail.example.org [192.0.2.7]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) ' +
        '(No client certificate requested) by mx.example.net (Postfix) with ESMTPS id 4Xyz for <u@example.net>; Tue, 3 Dec 2024 10:00:00 +0100 (CET)',
    );
    assert.equal(hop.fromHost, 'mail.example.org');
    assert.equal(hop.fromAddress, '192.0.2.7');
    assert.equal(hop.byHost, 'mx.example.net');
    assert.equal(hop.software, 'Postfix');
    assert.equal(hop.tlsVersion, 'TLSv1.3');
    assert.equal(hop.for, 'u@example.net');
    assert.equal(hop.date, '2024-12-03T09:00:00.000Z');
  });

  it('tells plain SMTP from ESMTPA by the RFC 3848 suffixes', () => {
    assert.equal(parseReceived('from a by b with SMTP; Mon, 1 Jan 2024 00:00:00 +0000').tls, false);
    const auth = parseReceived('from a by b with ESMTPA id 1; Mon, 1 Jan 2024 00:00:00 +0000');
    assert.equal(auth.authenticated, true);
    assert.equal(auth.tls, false);
  });

  it('survives garbage', () => {
    const hop = parseReceived('((( by ; nonsense');
    assert.equal(hop.tls, false);
    assert.equal(hop.date, undefined);
  });
});

describe('verdict fields', () => {
  it('reads rule lists in the common forms', () => {
    assert.deepEqual(parseRuleList('A=1,B(2.5) C'), [{ name: 'A', score: 1 }, { name: 'B', score: 2.5 }, { name: 'C' }]);
    assert.deepEqual(parseRuleList('none'), []);
  });

  it('reads an infected verdict and a SpamAssassin report', () => {
    const verdict = readVerdict(
      parseHeaderBlock(
        'X-Virus-Status: Infected (Eicar-Test-Signature)\r\nX-Spam-Report: \r\n\t* 3.0 GTUBE Generic test\r\n\t* 1.5 EMPTY_MESSAGE Empty body\r\n\r\n',
      ),
    );
    assert.equal(verdict?.virus?.status, 'infected');
    assert.deepEqual(verdict?.virus?.names, ['Eicar-Test-Signature']);
    assert.deepEqual(verdict?.spam?.rules.map((rule) => [rule.name, rule.score]), [['GTUBE', 3], ['EMPTY_MESSAGE', 1.5]]);
  });

  it('reads Authentication-Results properties, and each result\'s comment apart from them', () => {
    const results = parseAuthenticationResults('mx.test 1; spf=fail (sender not allowed) smtp.mailfrom=a@b.test; auth=pass smtp.auth=alice');
    assert.equal(results.authservId, 'mx.test');
    assert.deepEqual(results.results.map((r) => [r.method, r.result]), [['spf', 'fail'], ['auth', 'pass']]);
    assert.equal(results.results[0]?.properties['smtp.mailfrom'], 'a@b.test');
    assert.equal(results.results[0]?.comment, 'sender not allowed');
    assert.equal(results.results[1]?.comment, undefined);
  });
});
