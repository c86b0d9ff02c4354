/**
 * A raw SMTP dialogue for the open-relay checks: no client library that might give up
 * early or add AUTH; it sends exactly the commands given and records every reply.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';

/** One whole dialogue is a handful of commands against a local container. */
const DIALOGUE_TIMEOUT_MS = 30_000;

export interface SmtpReply {
  code: number;
  text: string;
}

export interface ProbeOptions {
  host: string;
  port: number;
  /** `implicit` for port 465; `starttls` upgrades after EHLO (submission). */
  tls: 'none' | 'implicit' | 'starttls';
  ca: string;
  servername: string;
}

class ReplyReader {
  private buffer = '';
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.waiting?.();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.waiting?.();
  }

  /** The next complete reply (RFC 5321 §4.2.1: `250-…` lines until `250 …`). */
  async next(): Promise<SmtpReply> {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*(\d{3})(?: [^\r\n]*)?\r\n/u.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match[0].length);
        return { code: Number(match[1]), text: match[0].trim() };
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}

/**
 * Greets, says EHLO (upgrading to TLS first where asked), then sends each command and
 * keeps its reply. Stops at the first reply of 500 or more after the greeting, or on a
 * dropped connection (recorded as code 0), since a refusing server may hang up.
 */
export async function smtpDialogue(options: ProbeOptions, commands: readonly string[]): Promise<SmtpReply[]> {
  let socket: Socket | TLSSocket =
    options.tls === 'implicit'
      ? connectTls({ host: options.host, port: options.port, ca: options.ca, servername: options.servername })
      : connectTcp({ host: options.host, port: options.port });
  socket.setTimeout(DIALOGUE_TIMEOUT_MS, () => socket.destroy(new Error('SMTP dialogue timed out')));
  let reader = new ReplyReader();
  reader.attach(socket);
  const replies: SmtpReply[] = [];
  const say = async (line: string): Promise<SmtpReply> => {
    socket.write(`${line}\r\n`);
    return reader.next();
  };
  try {
    replies.push(await reader.next());
    replies.push(await say('EHLO probe.example.net'));
    if (options.tls === 'starttls') {
      const ready = await say('STARTTLS');
      replies.push(ready);
      if (ready.code !== 220) return replies;
      const plain = socket;
      plain.removeAllListeners('data');
      socket = connectTls({ socket: plain, ca: options.ca, servername: options.servername });
      reader = new ReplyReader();
      reader.attach(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', () => resolve());
        socket.once('error', reject);
      });
      replies.push(await say('EHLO probe.example.net'));
    }
    for (const command of commands) {
      const reply = await say(command).catch((error: unknown) => ({ code: 0, text: (error as Error).message }));
      replies.push(reply);
      if (reply.code === 0 || reply.code >= 500) break;
    }
    return replies;
  } finally {
    socket.destroy();
  }
}
