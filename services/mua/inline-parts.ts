/**
 * Inline images (`cid:` references, RFC 2392) are served by URL instead of being pasted
 * into the frame as data: URIs once per reference (issue 19, High 3: one 2 MiB image
 * referenced 180 times made a 480 MiB document). The message frame is sandboxed without
 * allow-same-origin, so its image requests carry no SameSite=Strict cookie: each frame
 * gets a short-lived random token that names the session and the message instead.
 */
import { randomBytes } from 'node:crypto';

/** A frame left open this long must be reloaded to show its inline images again. */
export const INLINE_LINK_TTL_MS = 30 * 60_000;
/** Tokens kept at most; the oldest go first (a frame open that long is reloaded). */
export const MAX_INLINE_LINKS = 10_000;
/** Route of an inline part: `${INLINE_PART_PATH}/<token>/<index>`. */
export const INLINE_PART_PATH = '/api/part';

export interface InlineLink {
  sessionId: string;
  folder: string;
  uid: number;
}

export class InlineLinks {
  readonly #links = new Map<string, InlineLink & { expires: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  issue(link: InlineLink): string {
    const token = randomBytes(18).toString('base64url');
    if (this.#links.size >= MAX_INLINE_LINKS) {
      const oldest = this.#links.keys().next().value;
      if (oldest !== undefined) this.#links.delete(oldest);
    }
    this.#links.set(token, { ...link, expires: this.#now() + INLINE_LINK_TTL_MS });
    return token;
  }

  resolve(token: string): InlineLink | undefined {
    const link = this.#links.get(token);
    if (link === undefined) return undefined;
    if (link.expires <= this.#now()) {
      this.#links.delete(token);
      return undefined;
    }
    return { sessionId: link.sessionId, folder: link.folder, uid: link.uid };
  }
}

/** `<logo@x>` and `logo@x` name the same part; Content-IDs compare without case here. */
export function contentIdKey(contentId: string): string {
  return contentId.trim().replace(/^<|>$/gu, '').toLowerCase();
}
