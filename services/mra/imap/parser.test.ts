import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, ImapSyntaxError, type Token } from './parser.ts';
import { CommandReader, MAX_LITERAL_BYTES, MAX_LINE_BYTES, type ReaderProblem } from './reader.ts';
import { expandSequenceSet, formatSequenceSet, inSequenceSet, parseSequenceSet } from './sequence.ts';
import { encodeResponse, encodeResponses, str, untagged } from './encode.ts';
import { parseFetchItems, sectionLabel } from './fetch-items.ts';
import { parseSearch } from './search.ts';
import { parseDateTime, parseSearchDate, formatDateTime } from './dates.ts';

const cmd = (text: string) => parseCommand(Buffer.from(text, 'latin1'));
const simplify = (token: Token): unknown =>
  token.type === 'atom' ? token.value : token.type === 'string' ? `s:${token.value.toString()}` : token.type === 'nil' ? null : token.items.map(simplify);

describe('IMAP command parser', () => {
  it('reads tag, verb and astrings', () => {
    const parsed = cmd('a1 login "bob@beta.test" "se\\"cr\\\\et"');
    assert.equal(parsed.tag, 'a1');
    assert.equal(parsed.verb, 'LOGIN');
    assert.deepEqual(parsed.args.map(simplify), ['s:bob@beta.test', 's:se"cr\\et']);
  });

  it('reads literals inline, synchronizing and LITERAL+', () => {
    const parsed = cmd('A2 LOGIN {4}\r\nbob! {6+}\r\nsecret');
    assert.deepEqual(parsed.args.map(simplify), ['s:bob!', 's:secret']);
    assert.equal(parsed.args[0]?.type === 'string' && parsed.args[0].literal, true);
  });

  it('keeps FETCH sections with spaces and lists as one atom', () => {
    const parsed = cmd('A3 UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (From "To")]<0.100> FLAGS)');
    assert.equal(parsed.verb, 'UID FETCH');
    assert.deepEqual(parsed.args.map(simplify), ['1:*', ['UID', 'BODY.PEEK[HEADER.FIELDS (From "To")]<0.100>', 'FLAGS']]);
  });

  it('reads nested lists and NIL', () => {
    assert.deepEqual(cmd('A4 ID ("name" NIL ("x"))').args.map(simplify), [['s:name', null, ['s:x']]]);
  });

  it('refuses bad syntax with the tag', () => {
    for (const text of ['A5 LOGIN "unterminated', 'A6 LOGIN  two-spaces', 'A7 SELECT (INBOX', 'A8 LOGIN "a\rb" c', 'A9 X {5}\r\nab']) {
      assert.throws(() => cmd(text), (error: unknown) => error instanceof ImapSyntaxError && error.tag === text.split(' ')[0], text);
    }
    assert.throws(() => cmd(''), ImapSyntaxError);
    assert.throws(() => cmd('+tag NOOP'), ImapSyntaxError);
    assert.throws(() => cmd('A10'), (error: unknown) => error instanceof ImapSyntaxError && error.tag === 'A10');
  });
});

describe('command reader', () => {
  function collect() {
    const commands: string[] = [];
    const problems: ReaderProblem[] = [];
    let continuations = 0;
    const reader = new CommandReader({
      command: (raw) => commands.push(raw.toString('latin1')),
      continuation: () => (continuations += 1),
      problem: (problem) => problems.push(problem),
    });
    return { reader, commands, problems, continuations: () => continuations };
  }

  it('frames commands split across chunks and asks for synchronizing literals', () => {
    const { reader, commands, continuations } = collect();
    reader.push(Buffer.from('A1 NOOP\r\nA2 LOGIN {3}\r'));
    reader.push(Buffer.from('\nbob {6+}\r\nsec'));
    reader.push(Buffer.from('ret\r\nA3 LOGOUT\n'));
    assert.deepEqual(commands, ['A1 NOOP', 'A2 LOGIN {3}\r\nbob {6+}\r\nsecret', 'A3 LOGOUT']);
    assert.equal(continuations(), 1);
  });

  it('refuses literals over the limit with the tag, before reading them', () => {
    const { reader, commands, problems, continuations } = collect();
    reader.push(Buffer.from(`A1 APPEND INBOX {${MAX_LITERAL_BYTES + 1}}\r\nA2 NOOP\r\n`));
    assert.deepEqual(problems, [{ kind: 'literal-too-big', tag: 'A1', size: MAX_LITERAL_BYTES + 1, synchronizing: true }]);
    assert.equal(continuations(), 0);
    assert.deepEqual(commands, ['A2 NOOP']);
  });

  it('refuses over-long lines and recovers at the next line', () => {
    const { reader, commands, problems } = collect();
    reader.push(Buffer.alloc(MAX_LINE_BYTES + 10, 'x'));
    reader.push(Buffer.from('yyy\r\nA2 NOOP\r\n'));
    assert.equal(problems[0]?.kind, 'line-too-long');
    assert.deepEqual(commands, ['A2 NOOP']);
  });

  it('discards pending bytes on reset (STARTTLS injection)', () => {
    const { reader, commands } = collect();
    reader.push(Buffer.from('A1 NOOP\r\nA2 LOGIN x'));
    reader.reset();
    reader.push(Buffer.from('A3 NOOP\r\n'));
    assert.deepEqual(commands, ['A1 NOOP', 'A3 NOOP']);
  });
});

describe('sequence sets', () => {
  it('parses, expands and formats', () => {
    const ranges = parseSequenceSet('1,3:5,9:*');
    assert.ok(ranges);
    assert.deepEqual(expandSequenceSet(ranges, 10), [1, 3, 4, 5, 9, 10]);
    assert.deepEqual(expandSequenceSet(parseSequenceSet('*:4') ?? [], 6), [4, 5, 6]);
    assert.equal(inSequenceSet(parseSequenceSet('20:*') ?? [], 7, 7), true);
    assert.equal(formatSequenceSet([1, 2, 3, 7, 9, 10]), '1:3,7,9:10');
    for (const bad of ['0', '1:0', 'a', '1,,2', '', '1:2:3']) assert.equal(parseSequenceSet(bad), undefined, bad);
  });

  it('stays cheap for sets of thousands of parts over a big mailbox', () => {
    const many = parseSequenceSet(Array.from({ length: 10_000 }, (_, i) => `${i * 2 + 1}:${i * 2 + 1}`).join(',')) ?? [];
    const started = Date.now();
    let hits = 0;
    for (let uid = 1; uid <= 100_000; uid += 1) if (inSequenceSet(many, uid, 100_000)) hits += 1;
    assert.equal(hits, 10_000);
    assert.equal(expandSequenceSet([...many, { from: 1, to: undefined }], 100_000).length, 100_000);
    assert.ok(Date.now() - started < 2000);
  });
});

describe('reply encoding', () => {
  it('quotes, escapes, uses literals for 8-bit and CRLF text, and writes status codes', () => {
    assert.equal(encodeResponse(untagged(1, 'FETCH', ['FLAGS', ['\\Seen'], 'X', str('a"b'), 'Y', str('é'), 'Z', null])).toString(), '* 1 FETCH (FLAGS (\\Seen) X "a\\"b" Y {2}\r\né Z NIL)\r\n');
    assert.equal(encodeResponse({ kind: 'status', tag: 'A1', status: 'NO', code: 'TRYCREATE', text: 'no such mailbox' }).toString(), 'A1 NO [TRYCREATE] no such mailbox\r\n');
    const batch = encodeResponses([
      untagged(1, 'FETCH', ['UID', 7, 'BODY[]', { literal: Buffer.from([0xff, 0x00, 0x0d, 0x0a]) }]),
      untagged(2, 'FETCH', ['FLAGS', []]),
      { kind: 'status', tag: 'A2', status: 'OK', text: 'fertig – ✓' },
    ]);
    assert.deepEqual(batch, Buffer.concat([Buffer.from('* 1 FETCH (UID 7 BODY[] {4}\r\n'), Buffer.from([0xff, 0x00, 0x0d, 0x0a]), Buffer.from(')\r\n* 2 FETCH (FLAGS ())\r\nA2 OK fertig – ✓\r\n', 'utf8')]));
  });
});

describe('FETCH items', () => {
  it('parses macros, sections and partials', () => {
    assert.deepEqual(parseFetchItems({ type: 'atom', value: 'FAST' }).map((item) => item.kind === 'simple' && item.name), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
    const [item] = parseFetchItems({ type: 'atom', value: 'BODY.PEEK[1.2.HEADER.FIELDS.NOT (X-Spam "Received")]<10.20>' });
    assert.ok(item?.kind === 'section');
    assert.deepEqual([item.peek, item.path, item.spec, item.fields, item.partial], [true, [1, 2], 'HEADER.FIELDS.NOT', ['X-Spam', 'Received'], { start: 10, length: 20 }]);
    assert.equal(sectionLabel(item), 'BODY[1.2.HEADER.FIELDS.NOT (X-Spam Received)]<10>');
    for (const bad of ['BODY[MIME]', 'BODY[0]', 'BODY[HEADER.FIELDS ()]', 'BODY[FOO]', 'RFC822.FOO']) {
      assert.throws(() => parseFetchItems({ type: 'atom', value: bad }), Error, bad);
    }
  });
});

describe('SEARCH keys', () => {
  const search = (text: string) => parseSearch(cmd(`A SEARCH ${text}`).args);
  it('parses the full grammar', () => {
    const query = search('CHARSET UTF-8 OR (FROM "alice" SINCE 1-Feb-2026) NOT SEEN 1:5 UID 3:* LARGER 10 HEADER X-Spam yes MODSEQ 5');
    assert.equal(query.usesModseq, true);
    assert.equal(query.root.op, 'and');
    assert.ok(query.root.op === 'and' && query.root.keys[0]?.op === 'or');
  });
  it('refuses unknown keys, bad dates and charsets', () => {
    for (const bad of ['FOO', 'SINCE 31-Feb-2026', 'CHARSET KOI8-R ALL', 'OR SEEN', '()']) assert.throws(() => search(bad), Error, bad);
  });
});

describe('dates', () => {
  it('parses and formats RFC 3501 dates', () => {
    assert.equal(parseDateTime('17-Jul-1996 02:44:25 -0700')?.toISOString(), '1996-07-17T09:44:25.000Z');
    assert.equal(parseDateTime(' 7-Jul-1996 02:44:25 +0000')?.toISOString(), '1996-07-07T02:44:25.000Z');
    assert.equal(parseDateTime('7-Jux-1996 02:44:25 +0000'), undefined);
    assert.equal(parseSearchDate('1-Feb-1994'), Date.UTC(1994, 1, 1));
    assert.equal(formatDateTime(new Date(Date.UTC(2026, 1, 7, 10, 0, 0))), ' 7-Feb-2026 10:00:00 +0000');
  });
});
