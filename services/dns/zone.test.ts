import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseTtl, parseZone, ZoneParseError, type ZoneRecord } from './zone.ts';
import { tokenizeZone } from './zone-lexer.ts';

const ZONES_DIR = new URL('./zones/', import.meta.url);

function only<T extends ZoneRecord['type']>(records: ZoneRecord[], name: string, type: T): Extract<ZoneRecord, { type: T }>[] {
  return records.filter((record): record is Extract<ZoneRecord, { type: T }> => record.name === name && record.type === type);
}

describe('zone lexer', () => {
  it('joins parenthesised lines, drops comments, marks omitted owners', () => {
    const entries = tokenizeZone('a IN SOA x. y. ( 1 ; serial\n 2 3\n 4 5 )\n  IN A 1.2.3.4 ; c\n; only a comment\n');
    assert.equal(entries.length, 2);
    assert.deepEqual(entries[0]?.tokens.map((token) => token.text), ['a', 'IN', 'SOA', 'x.', 'y.', '1', '2', '3', '4', '5']);
    assert.equal(entries[0]?.ownerOmitted, false);
    assert.equal(entries[1]?.ownerOmitted, true);
    assert.equal(entries[1]?.line, 4);
  });

  it('reads quoted strings with escapes, semicolons and parentheses inside', () => {
    const entries = tokenizeZone('t TXT "a;b (c)" "say \\"hi\\"" "\\065\\066"\n');
    assert.deepEqual(entries[0]?.tokens.slice(2).map((token) => [token.text, token.quoted]), [
      ['a;b (c)', true],
      ['say "hi"', true],
      ['AB', true],
    ]);
  });

  it('reports unbalanced parentheses and unclosed quotes with the line', () => {
    assert.throws(() => tokenizeZone('a A 1.2.3.4\nb SOA ( 1 2\n'), /unclosed "\("/);
    assert.throws(() => tokenizeZone('a A )\n'), (error: Error & { line?: number }) => error.line === 1);
    assert.throws(() => tokenizeZone('a TXT "open\n'), /unclosed quoted string/);
  });
});

describe('parseTtl', () => {
  it('reads seconds and BIND units', () => {
    assert.equal(parseTtl('60'), 60);
    assert.equal(parseTtl('1h30m'), 5400);
    assert.equal(parseTtl('1W'), 604800);
    assert.equal(parseTtl('IN'), undefined);
    assert.equal(parseTtl('4294967295'), undefined);
  });
});

describe('parseZone', () => {
  const sample = [
    '$ORIGIN example.test.',
    '$TTL 300',
    '@ IN SOA ns hostmaster.example.test. ( 7 3600 600 86400 30 )',
    '  IN NS ns',
    '  IN MX 10 mx',
    '  IN MX 20 backup.other.test.',
    '  IN TXT "v=spf1 mx -all" "second string"',
    'ns 120 IN A 192.0.2.1',
    'mx IN 90 A 192.0.2.2',
    '   AAAA 2001:DB8::2',
    'www CNAME mx',
    '_imap._tcp SRV 0 1 143 mx',
    '1.2 IN PTR mx.example.test.',
    '$ORIGIN sub.example.test.',
    'deep A 192.0.2.3',
    '',
  ].join('\n');

  it('resolves @, relative and absolute names, TTLs and omitted owners', () => {
    const zone = parseZone(sample, { file: 'sample' });
    assert.equal(zone.origin, 'example.test');
    assert.deepEqual(zone.soa.data, {
      mname: 'ns.example.test',
      rname: 'hostmaster.example.test',
      serial: 7,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 30,
    });
    assert.deepEqual(
      only(zone.records, 'example.test', 'MX').map((record) => record.data),
      [
        { preference: 10, exchange: 'mx.example.test' },
        { preference: 20, exchange: 'backup.other.test' },
      ],
    );
    assert.deepEqual(only(zone.records, 'example.test', 'TXT')[0]?.data, ['v=spf1 mx -all', 'second string']);
    assert.equal(only(zone.records, 'ns.example.test', 'A')[0]?.ttl, 120);
    assert.equal(only(zone.records, 'mx.example.test', 'A')[0]?.ttl, 90);
    // An omitted TTL after an explicit one keeps the $TTL default (RFC 2308 §4).
    assert.equal(only(zone.records, 'mx.example.test', 'AAAA')[0]?.data, '2001:db8::2');
    assert.equal(only(zone.records, 'mx.example.test', 'AAAA')[0]?.ttl, 300);
    assert.equal(only(zone.records, 'www.example.test', 'CNAME')[0]?.data, 'mx.example.test');
    assert.deepEqual(only(zone.records, '_imap._tcp.example.test', 'SRV')[0]?.data, {
      priority: 0,
      weight: 1,
      port: 143,
      target: 'mx.example.test',
    });
    assert.equal(only(zone.records, '1.2.example.test', 'PTR')[0]?.data, 'mx.example.test');
    assert.equal(only(zone.records, 'deep.sub.example.test', 'A')[0]?.data, '192.0.2.3');
  });

  it('takes the origin from the options when the file has no $ORIGIN', () => {
    const zone = parseZone('$TTL 60\n@ SOA ns hm 1 2 3 4 5\nhost A 10.0.0.1\n', { origin: 'Other.Test.' });
    assert.equal(zone.origin, 'other.test');
    assert.equal(zone.records[1]?.name, 'host.other.test');
  });

  it('rejects bad input with file and line', () => {
    const bad: [string, RegExp][] = [
      ['$ORIGIN a.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\nx A 999.1.1.1\n', /:4: bad IPv4/],
      ['$ORIGIN a.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\nx CH A 1.1.1.1\n', /class CH/],
      ['$ORIGIN a.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\nx HINFO a b\n', /HINFO is not supported/],
      ['$ORIGIN a.test.\n@ SOA ns hm 1 2 3 4 5\n', /no TTL/],
      ['$ORIGIN a.test.\n$TTL 60\n@ MX 10 mx\n', /exactly one SOA/],
      ['$ORIGIN a.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\nx.b.test. A 1.1.1.1\n', /outside the zone/],
      ['$ORIGIN a.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\nx MX 70000 mx\n', /16-bit/],
      ['$TTL 60\nx A 1.1.1.1\n', /before \$ORIGIN/],
      ['$ORIGIN a.test.\n$INCLUDE other\n', /\$INCLUDE is not supported/],
      ['$ORIGIN a.test.\n$TTL 60\n  A 1.1.1.1\n', /no previous owner/],
      [`$ORIGIN a.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ TXT "${'x'.repeat(256)}"\n`, /255 bytes/],
    ];
    for (const [text, pattern] of bad) {
      assert.throws(() => parseZone(text, { file: 'bad.zone' }), (error: unknown) => {
        assert.ok(error instanceof ZoneParseError, String(error));
        assert.match(error.message, pattern);
        return true;
      });
    }
  });

  it('parses the lab zone alpha.test', async () => {
    const zone = parseZone(await readFile(new URL('alpha.test.zone', ZONES_DIR), 'latin1'), { file: 'alpha.test.zone' });
    assert.equal(zone.origin, 'alpha.test');
    assert.deepEqual(
      only(zone.records, 'alpha.test', 'MX').map((record) => record.data),
      [{ preference: 10, exchange: 'mx.alpha.test' }],
    );
    assert.deepEqual(only(zone.records, 'alpha.test', 'TXT')[0]?.data, ['v=spf1 mx -all']);
    assert.equal(only(zone.records, 'mx.alpha.test', 'A')[0]?.data, '172.28.0.10');
    assert.deepEqual(only(zone.records, '_submission._tcp.alpha.test', 'SRV')[0]?.data, {
      priority: 0,
      weight: 1,
      port: 587,
      target: 'smtp.alpha.test',
    });
    for (const service of ['_submission', '_submissions', '_imap', '_imaps', '_pop3', '_pop3s']) {
      assert.equal(only(zone.records, `${service}._tcp.alpha.test`, 'SRV').length, 1, service);
    }
    assert.ok(zone.records.every((record) => record.ttl === 60));
  });

  it('parses the lab zone beta.test with two MX records', async () => {
    const zone = parseZone(await readFile(new URL('beta.test.zone', ZONES_DIR), 'latin1'), { file: 'beta.test.zone' });
    assert.equal(zone.origin, 'beta.test');
    assert.deepEqual(
      only(zone.records, 'beta.test', 'MX').map((record) => record.data),
      [
        { preference: 10, exchange: 'mx1.beta.test' },
        { preference: 20, exchange: 'mx2.beta.test' },
      ],
    );
    assert.equal(only(zone.records, 'mx2.beta.test', 'A')[0]?.data, '172.28.0.21');
    assert.equal(zone.soa.data.minimum, 60);
  });
});
