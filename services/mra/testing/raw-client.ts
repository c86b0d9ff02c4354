/** A raw IMAP socket for abuse tests: write bytes, read until a line matches. */
import { connect, type Socket } from 'node:net';

export class RawImap {
  private data = '';
  private readonly socket: Socket;
  private closedFlag = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (this.data += chunk));
    socket.on('close', () => (this.closedFlag = true));
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawImap> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawImap(socket);
    await client.until(/^\* OK .*\r\n/mu);
    return client;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Waits until the received text matches, returns everything received so far and clears it. */
  async until(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.data)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(this.data.slice(-500))}`);
      if (this.closedFlag) throw new Error(`closed while waiting for ${pattern}; got ${JSON.stringify(this.data.slice(-500))}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const text = this.data;
    this.data = '';
    return text;
  }

  /** Sends a command and returns the whole response up to its tagged reply. */
  async command(tag: string, text: string, timeoutMs = 5000): Promise<string> {
    this.write(`${tag} ${text}\r\n`);
    return this.until(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'mu'), timeoutMs);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
