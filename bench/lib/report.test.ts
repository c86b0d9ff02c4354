import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderReadmeSection } from './readme-section.ts';
import { measuredFigures, renderText, table, type BenchReport, type ScenarioResults } from './report.ts';
import { parseOptions } from './options.ts';

const summary = { count: 10, p50Ms: 5, p99Ms: 40, maxMs: 50, meanMs: 8 };
const results: ScenarioResults = {
  ingest: {
    messages: 2000, sessions: 20, accepted: 2000, failed: 0, elapsedMs: 8000, messagesPerSecond: 250, acceptedPerSecond: 400,
    maildirMs: 7900, accept: summary, junked: 0, peakRssMb: { 'beta-mx1': 90 }, peaksPerScenario: true, errors: [],
  },
  pop3: { sessions: 4, messages: 8000, megabytes: 33, elapsedMs: 2000, messagesPerSecond: 4000, pipelined: true, peakRssMb: {} },
};

function report(): BenchReport {
  const { help: _h, ca: _c, ...options } = parseOptions([]);
  return {
    context: { date: '2026-11-23T17:00:00.000Z', commit: 'abcdef1234567890', dirty: false, node: 'v24.0.0', machine: { cores: 2, memoryGb: 24, cpuModel: 'cpu', platform: 'linux x64', kernel: '6' }, loadAverage: { start: 0.5, end: 1 } },
    target: 'lab',
    options,
    referenceStack: 'ref',
    figures: measuredFigures(results),
    results,
    failures: { imap: 'refused' },
  };
}

describe('measuredFigures', () => {
  it('judges each figure against its target, both directions, and marks the ones not run', () => {
    const figures = measuredFigures({ ...results, scale: { selectColdMs: 3000, selectWarmMs: 700, mraRssMb: 150 } as ScenarioResults['scale'] });
    const byKey = Object.fromEntries(figures.map((figure) => [figure.key, figure.meetsTarget]));
    assert.equal(byKey['ingest.messagesPerSecond'], true);
    assert.equal(byKey['pop3.messagesPerSecond'], false);
    assert.equal(byKey['scale.selectWarmMs'], false);
    assert.equal(byKey['scale.selectColdMs'], undefined);
    assert.equal(byKey['scale.mraRssMb'], true);
    assert.equal(byKey['imap.commandsPerSecond'], undefined);
  });
});

describe('rendering', () => {
  it('prints figures, targets, details and failures', () => {
    const text = renderText(report());
    assert.match(text, /Ingest end to end.*250 msg\/s.*≥ 250 msg\/s.*meets/u);
    assert.match(text, /POP3 RETR.*SHORT/u);
    assert.match(text, /ingest: accept latency p50 \/ p99\s+5 \/ 40 ms/u);
    assert.match(text, /imap failed: refused/u);
  });

  it('writes a markdown section with the reference and how to reproduce', () => {
    const markdown = renderReadmeSection(report());
    assert.match(markdown, /^## Performance/u);
    assert.match(markdown, /\| Ingest end to end .* \| 250 msg\/s ✅ \| ≥ 250 msg\/s \| 190–250/u);
    assert.match(markdown, /npm run bench -- --only ingest,imap/u);
  });

  it('aligns table columns', () => {
    assert.equal(table([['a', 'bb'], ['ccc', 'd']]), 'a    bb\nccc  d');
  });
});
