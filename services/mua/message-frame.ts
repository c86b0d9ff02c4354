/**
 * The document shown in the reading pane's sandboxed iframe (no allow-scripts, no
 * allow-same-origin) and its own Content-Security-Policy: nothing runs, nothing loads
 * except inline data: images, and remote images only after the person asked.
 */
import type { SanitizedHtml } from './sanitize.ts';

export function frameCsp(remoteImages: boolean): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src data:${remoteImages ? ' http: https:' : ''}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
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
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><base target="_blank">` +
    `<style>${FRAME_STYLE}</style></head><body>${content.html}</body></html>`;
}
