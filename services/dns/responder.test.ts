import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { respond, CLASSIC_UDP_PAYLOAD } from './responder.ts';
import { loadZones, ZoneStore } from './zone-store.ts';
import { parseZone } from './zone.ts';

const ZONES_DIR = fileURLToPath(new URL('./zones/', import.meta.url));

function ask(store: ZoneStore, question: Packet['questions'], extra: Partial<Packet> = {}, transport: 'udp' | 'tcp' = 'udp'): DecodedPacket {
  const query = dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: question, ...extra });
  const reply = respond(store, query, transport);
  assert.ok(reply.bytes !== undefined, 'expected a reply');
  return dnsPacket.decode(reply.bytes);
}

function rcodeOf(packet: DecodedPacket): string {
  return (packet as DecodedPacket & { rcode: string }).rcode;
}

function dataOf(answers: Answer[] | undefined, type: string): unknown[] {
  return (answers ?? []).filter((answer) => answer.type === type).map((answer) => (answer as { data: unknown }).data);
}

const labLoopback = await loadZones(ZONES_DIR, 'loopback');
const labCompose = await loadZones(ZONES_DIR, 'compose');

const extraZone = parseZone(
  [
    '$ORIGIN extra.test.',
    '$TTL 300',
    '@ SOA ns hm 1 3600 600 86400 30',
    'www CNAME web',
    'web A 192.0.2.10',
    'out CNAME elsewhere.example.',
    'loop1 CNAME loop2',
    'loop2 CNAME loop1',
    ...Array.from({ length: 40 }, (_, i) => `big TXT "${'t'.repeat(60)}${i}"`),
    ...Array.from({ length: 5 }, (_, i) => `many A 192.0.2.${20 + i}`),
  ].join('\n'),
);
const extra = new ZoneStore([extraZone]);

describe('respond', () => {
  it('answers MX authoritatively with the exchanges\' loopback addresses as additional records', () => {
    const reply = ask(labLoopback, [{ type: 'MX', name: 'beta.test' }]);
    assert.equal(reply.id, 4242);
    assert.equal(reply.flag_aa, true);
    assert.equal(reply.flag_rd, true);
    assert.equal(reply.flag_ra, false);
    assert.equal(rcodeOf(reply), 'NOERROR');
    const mx = dataOf(reply.answers, 'MX') as { preference: number; exchange: string }[];
    assert.deepEqual(mx.sort((a, b) => a.preference - b.preference), [
      { preference: 10, exchange: 'mx1.beta.test' },
      { preference: 20, exchange: 'mx2.beta.test' },
    ]);
    const glue = new Map((reply.additionals ?? []).map((record) => [record.name, (record as { data: unknown }).data]));
    assert.equal(glue.get('mx1.beta.test'), '127.28.0.20');
    assert.equal(glue.get('mx2.beta.test'), '127.28.0.21');
  });

  it('serves A records as written in compose mode', () => {
    const reply = ask(labCompose, [{ type: 'A', name: 'mx.alpha.test' }]);
    assert.deepEqual(dataOf(reply.answers, 'A'), ['172.28.0.10']);
    assert.deepEqual(dataOf(ask(labLoopback, [{ type: 'A', name: 'MX.Alpha.Test' }]).answers, 'A'), ['127.28.0.10']);
  });

  it('answers SRV with the target address and TXT with the SPF record', () => {
    const srv = ask(labLoopback, [{ type: 'SRV', name: '_submission._tcp.alpha.test' }]);
    assert.deepEqual(dataOf(srv.answers, 'SRV'), [{ priority: 0, weight: 1, port: 587, target: 'smtp.alpha.test' }]);
    assert.deepEqual(dataOf(srv.additionals, 'A'), ['127.28.0.10']);
    const txt = ask(labLoopback, [{ type: 'TXT', name: 'alpha.test' }]);
    assert.deepEqual((dataOf(txt.answers, 'TXT')[0] as Buffer[]).map(String), ['v=spf1 mx -all']);
  });

  it('answers NXDOMAIN and NODATA with the SOA in the authority section', () => {
    const nx = ask(labLoopback, [{ type: 'A', name: 'nobody.beta.test' }]);
    assert.equal(rcodeOf(nx), 'NXDOMAIN');
    assert.equal(nx.flag_aa, true);
    assert.equal(nx.answers?.length, 0);
    assert.equal(nx.authorities?.[0]?.type, 'SOA');
    assert.equal(nx.authorities?.[0]?.name, 'beta.test');
    const nodata = ask(labLoopback, [{ type: 'AAAA', name: 'mx1.beta.test' }]);
    assert.equal(rcodeOf(nodata), 'NOERROR');
    assert.equal(nodata.answers?.length, 0);
    assert.equal(nodata.authorities?.[0]?.type, 'SOA');
    // `_tcp.alpha.test` exists only as the parent of the SRV names: NODATA, not NXDOMAIN.
    assert.equal(rcodeOf(ask(labLoopback, [{ type: 'A', name: '_tcp.alpha.test' }])), 'NOERROR');
  });

  it('refuses names outside the lab zones without recursion', () => {
    const reply = ask(labLoopback, [{ type: 'A', name: 'example.com' }]);
    assert.equal(rcodeOf(reply), 'REFUSED');
    assert.equal(reply.flag_aa, false);
    assert.equal(rcodeOf(ask(labLoopback, [{ type: 'A', name: 'alpha.test.evil' }])), 'REFUSED');
  });

  it('chases CNAMEs inside the zones and stops at loops and exits', () => {
    const reply = ask(extra, [{ type: 'A', name: 'www.extra.test' }]);
    assert.deepEqual(reply.answers?.map((answer) => [answer.name, answer.type]), [
      ['www.extra.test', 'CNAME'],
      ['web.extra.test', 'A'],
    ]);
    assert.deepEqual(dataOf(ask(extra, [{ type: 'CNAME', name: 'www.extra.test' }]).answers, 'CNAME'), ['web.extra.test']);
    const out = ask(extra, [{ type: 'A', name: 'out.extra.test' }]);
    assert.equal(rcodeOf(out), 'NOERROR');
    assert.deepEqual(dataOf(out.answers, 'CNAME'), ['elsewhere.example']);
    assert.equal(rcodeOf(ask(extra, [{ type: 'A', name: 'loop1.extra.test' }])), 'SERVFAIL');
  });

  it('randomizes the order of a multi-record RRset', () => {
    const orders = new Set<string>();
    for (let i = 0; i < 40; i++) orders.add(dataOf(ask(extra, [{ type: 'A', name: 'many.extra.test' }]).answers, 'A').join(','));
    assert.ok(orders.size > 1, 'always the same order');
    for (const order of orders) assert.equal(order.split(',').sort().join(','), '192.0.2.20,192.0.2.21,192.0.2.22,192.0.2.23,192.0.2.24');
  });

  it('sets TC when a UDP answer exceeds 512 bytes, or the EDNS size, and not over TCP', () => {
    const udp = ask(extra, [{ type: 'TXT', name: 'big.extra.test' }]);
    assert.equal(udp.flag_tc, true);
    assert.equal(udp.answers?.length, 0);
    const tcp = ask(extra, [{ type: 'TXT', name: 'big.extra.test' }], {}, 'tcp');
    assert.equal(tcp.flag_tc, false);
    assert.equal(tcp.answers?.length, 40);
    const opt: Answer = { name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
    const edns = ask(extra, [{ type: 'TXT', name: 'big.extra.test' }], { additionals: [opt] });
    assert.equal(edns.flag_tc, true, '40 × 70 bytes exceed our 1232-byte EDNS limit');
    const small = ask(labLoopback, [{ type: 'MX', name: 'beta.test' }], { additionals: [opt] });
    assert.equal(small.flag_tc, false);
    assert.ok((small.additionals ?? []).some((record) => record.type === 'OPT'), 'EDNS answered with OPT');
    assert.ok(CLASSIC_UDP_PAYLOAD === 512);
  });

  it('answers FORMERR on garbage, drops runts and responses, NOTIMP for other opcodes', () => {
    const garbage = Buffer.from('0102000000010000000000000377777700', 'hex');
    const formerr = respond(labLoopback, Buffer.concat([garbage.subarray(0, 12), Buffer.from([0xff, 0xff, 0xff])]), 'udp');
    assert.equal(formerr.rcode, 'FORMERR');
    assert.ok(formerr.bytes !== undefined);
    assert.equal(formerr.bytes.readUInt16BE(0), 0x0102);
    assert.equal(formerr.bytes.readUInt16BE(2) & 0x800f, 0x8001);
    assert.equal(respond(labLoopback, Buffer.from([1, 2, 3]), 'udp').bytes, undefined);
    const response = dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'alpha.test' }] });
    assert.equal(respond(labLoopback, response, 'udp').bytes, undefined);
    const notify = dnsPacket.encode({ type: 'query', id: 2, flags: 4 << 11, questions: [{ type: 'SOA', name: 'alpha.test' }] });
    const notimp = respond(labLoopback, notify, 'udp');
    assert.equal(notimp.rcode, 'NOTIMP');
    const twoQuestions = dnsPacket.encode({ type: 'query', id: 3, questions: [{ type: 'A', name: 'alpha.test' }, { type: 'A', name: 'beta.test' }] });
    assert.equal(respond(labLoopback, twoQuestions, 'udp').rcode, 'FORMERR');
  });
});
