/**
 * A tiny SMTP server for the load generator's own tests: EHLO with PIPELINING,
 * STARTTLS, AUTH PLAIN, MAIL/RCPT/DATA; counts the messages it accepts. Not a mail server.
 */
import net from 'node:net';
import tls from 'node:tls';
import { WireBuffer } from '../wire/wire-buffer.ts';

export interface FakeSmtp {
  port: number;
  messages: Buffer[];
  close(): Promise<void>;
}

const END_OF_DATA = Buffer.from('\r\n.\r\n');

export async function startFakeSmtp(options: { cert?: string; key?: string; password?: string } = {}): Promise<FakeSmtp> {
  const messages: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const serve = (socket: net.Socket, greet: boolean) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const buffer = new WireBuffer();
    let inData = false;
    if (greet) socket.write('220 fake ESMTP\r\n');
    const onData = (chunk: Buffer) => {
      buffer.feed(chunk);
      for (;;) {
        if (inData) {
          const body = buffer.through(END_OF_DATA);
          if (!body) return;
          inData = false;
          messages.push(body);
          socket.write('250 2.0.0 queued\r\n');
          continue;
        }
        const line = buffer.line();
        if (line === undefined) return;
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') socket.write(`250-fake\r\n250-PIPELINING\r\n${options.cert ? '250-STARTTLS\r\n' : ''}250 AUTH PLAIN\r\n`);
        else if (verb === 'STARTTLS' && options.cert) {
          socket.write('220 go ahead\r\n');
          socket.off('data', onData);
          const secure = new tls.TLSSocket(socket, { isServer: true, cert: options.cert, key: options.key });
          serve(secure, false);
          return;
        } else if (verb === 'AUTH') {
          const decoded = Buffer.from(line.split(' ')[2] ?? '', 'base64').toString();
          socket.write(decoded.endsWith(`\0${options.password ?? 'secret'}`) ? '235 ok\r\n' : '535 no\r\n');
        } else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET') socket.write('250 ok\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
          return;
        } else socket.write('502 unknown\r\n');
      }
    };
    socket.on('data', onData);
  };
  const server = net.createServer((socket) => serve(socket, true));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
