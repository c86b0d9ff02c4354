/**
 * The document shown in the reading pane's sandboxed iframe (no allow-scripts, no
 * allow-same-origin) and its own Content-Security-Policy: nothing runs, nothing loads
 * except data: images, the message's own inline parts (inline-parts.ts), and remote
 * images only after the person asked. The policy sandboxes the document too, so it is
 * just as confined when opened on its own, outside the iframe.
 */
import { INLINE_PART_PATH } from './inline-parts.ts';
import type { SanitizedHtml } from './sanitize.ts';

/** The iframe's own sandbox flags (public/app.js), repeated in the frame's CSP. */
export const FRAME_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';
/**
 * Sanitized HTML larger than this is not shown: the lab's messages are small, and a
 * newsletter is well under it; a bigger document only costs the browser memory.
 */
export const MAX_FRAME_HTML_CHARS = 2 * 1024 * 1024;

/**
 * `appOrigin` (`http://host:port`, from the request) lets the frame load inline parts from
 * the app; a sandboxed document's own origin is opaque, so 'self' is not relied on.
 */
export function frameCsp(remoteImages: boolean, appOrigin?: string): string {
  const parts = appOrigin === undefined ? '' : ` ${appOrigin}${INLINE_PART_PATH}/`;
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src data:${parts}${remoteImages ? ' http: https:' : ''}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
    `sandbox ${FRAME_SANDBOX}`,
  ].join('; ');
}

const FRAME_STYLE = `
  html { color-scheme: light; }
  body { margin: 0; padding: 16px; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430;
    background: #fff; overflow-wrap: anywhere; }
  img { max-width: 100%; height: auto; }
  img[data-blocked-src] { display: inline-block; min-width: 120px; min-height: 24px; padding: 4px 8px; border: 1px dashed #98a2b3;
    color: #475467; font-size: 12px; background: #f2f4f7; }
  table { max-width: 100%; }
  pre { white-space: pre-wrap; }
  blockquote { margin: 0 0 0 4px; padding-left: 12px; border-left: 3px solid #d0d5dd; color: #475467; }
`;

export function frameDocument(content: SanitizedHtml): string {
  const body =
    content.html.length > MAX_FRAME_HTML_CHARS
      ? `<p class="too-large">This message's formatted part is too large to show here (${Math.ceil(content.html.length / 1024 / 1024)} MB). ` +
        'Its plain text is above; the whole message is under "Source".</p>'
      : content.html;
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><base target="_blank">` +
    `<style>${FRAME_STYLE}</style></head><body>${body}</body></html>`;
}
