/**
 * Server-side HTML sanitizing for reading mail (sanitize-html): no scripts, no event
 * handlers, no forms, no frames; links open outside the app; inline `cid:` images point at
 * their part's URL (inline-parts.ts), never a copy of the image; remote images are blocked (the URL moves to `data-blocked-src`) unless the
 * person asked to see them. The iframe's CSP (message-frame.ts) is the second wall.
 */
import sanitizeHtml from 'sanitize-html';
import { contentIdKey } from './inline-parts.ts';

export interface SanitizeOptions {
  /** Let http(s) images load (the person clicked "show images"). */
  remoteImages: boolean;
  /** URL of each inline image by Content-ID key (inline-parts.ts contentIdKey). */
  inline?: ReadonlyMap<string, string>;
}

export interface SanitizedHtml {
  html: string;
  blockedImages: number;
}

/** Style values without parentheses or escapes, so no url(), expression() or image-set(). */
const SAFE_STYLE_VALUE = [/^[-#%.,\w\s"'!/]+$/u];
const STYLE_PROPERTIES = [
  'color', 'background-color', 'font-family', 'font-size', 'font-weight', 'font-style', 'text-align', 'text-decoration',
  'line-height', 'margin', 'margin-top', 'margin-bottom', 'margin-left', 'margin-right', 'padding', 'padding-top',
  'padding-bottom', 'padding-left', 'padding-right', 'border', 'border-collapse', 'border-color', 'border-width',
  'border-style', 'width', 'max-width', 'height', 'vertical-align', 'white-space', 'display',
];

const ALLOWED_TAGS = [
  ...sanitizeHtml.defaults.allowedTags.filter((tag) => tag !== 'style'),
  'img', 'center', 'font', 'span', 'del', 'ins', 'sub', 'sup', 'u', 's',
];

/** RFC 2392: a cid: URL is the Content-ID, %-encoded. */
function decodeCid(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function isRemote(src: string): boolean {
  return /^(https?:)?\/\//iu.test(src.trim());
}

export function sanitizeMessageHtml(input: string, options: SanitizeOptions): SanitizedHtml {
  let blockedImages = 0;
  const inline = options.inline ?? new Map<string, string>();
  const html = sanitizeHtml(input, {
    allowedTags: ALLOWED_TAGS,
    disallowedTagsMode: 'discard',
    allowedAttributes: {
      a: ['href', 'title', 'name', 'target', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height', 'data-blocked-src'],
      font: ['color', 'size', 'face'],
      td: ['colspan', 'rowspan', 'align', 'valign', 'width'],
      th: ['colspan', 'rowspan', 'align', 'valign', 'width'],
      table: ['width', 'align', 'cellpadding', 'cellspacing', 'border'],
      '*': ['style', 'dir', 'lang', 'align'],
    },
    allowedStyles: { '*': Object.fromEntries(STYLE_PROPERTIES.map((property) => [property, SAFE_STYLE_VALUE])) },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowProtocolRelative: false,
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer' } }),
      img: (tagName, attribs) => {
        const { src = '', ...rest } = attribs;
        delete rest['data-blocked-src'];
        if (/^cid:/iu.test(src)) {
          const url = inline.get(contentIdKey(decodeCid(src.slice(4))));
          return { tagName, attribs: url ? { ...rest, src: url } : { ...rest, alt: rest.alt ?? '[missing inline image]' } };
        }
        if (isRemote(src) && !options.remoteImages) {
          blockedImages += 1;
          return { tagName, attribs: { ...rest, 'data-blocked-src': src, alt: rest.alt || '[remote image blocked]' } };
        }
        if (isRemote(src) || /^data:image\/(png|gif|jpe?g|webp);/iu.test(src)) return { tagName, attribs: { ...rest, src } };
        // Relative and other sources have nothing to point to inside a message.
        return { tagName, attribs: rest };
      },
    },
  });
  return { html, blockedImages };
}

