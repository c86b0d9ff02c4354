/**
 * The bytes a client has received and not yet consumed, with the two cuts every mail
 * protocol needs: a CRLF-terminated line, and a counted run of bytes (an IMAP literal).
 * Socket-free, so the protocol parsers on top of it are tested without a server.
 */
const CRLF = Buffer.from('\r\n');

export class WireBuffer {
  private data: Buffer = Buffer.alloc(0);
  private start = 0;

  feed(chunk: Buffer): void {
    if (this.start === this.data.length) {
      this.data = chunk;
    } else {
      this.data = Buffer.concat([this.data.subarray(this.start), chunk]);
    }
    this.start = 0;
  }

  get length(): number {
    return this.data.length - this.start;
  }

  /** The next line without its CRLF (latin1, so every byte survives), or undefined when incomplete. */
  line(): string | undefined {
    const end = this.data.indexOf(CRLF, this.start);
    if (end === -1) return undefined;
    const text = this.data.toString('latin1', this.start, end);
    this.start = end + 2;
    return text;
  }

  /** The next `count` bytes, or undefined until that many have arrived. */
  bytes(count: number): Buffer | undefined {
    if (this.length < count) return undefined;
    const out = this.data.subarray(this.start, this.start + count);
    this.start += count;
    return out;
  }

  /** The next `count` bytes without consuming them, or undefined until they arrived. */
  peek(count: number): Buffer | undefined {
    return this.length < count ? undefined : this.data.subarray(this.start, this.start + count);
  }

  /**
   * Everything up to and including `marker`, searched from `from` bytes into the unread
   * part; undefined when the marker has not arrived. Lets a caller remember how far it
   * has already searched, so a long multi-line reply is scanned once, not once per chunk.
   */
  through(marker: Buffer, from = 0): Buffer | undefined {
    const at = this.data.indexOf(marker, this.start + from);
    if (at === -1) return undefined;
    const out = this.data.subarray(this.start, at + marker.length);
    this.start = at + marker.length;
    return out;
  }
}
