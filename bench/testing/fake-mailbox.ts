/**
 * Tiny IMAP and POP3 servers over a fixed list of messages, for the load generator's
 * own tests: just the commands the bench sends, with real literals and dot-stuffing.
 */
import net from 'node:net';
import { WireBuffer } from '../wire/wire-buffer.ts';

export interface FakeServer {
  port: number;
  /** Commands received, by verb. */
  commands: Map<string, number>;
  close(): Promise<void>;
}

async function listen(handler: (socket: net.Socket, commands: Map<string, number>) => void): Promise<FakeServer> {
  const commands = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    handler(socket, commands);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function onLines(socket: net.Socket, handle: (line: string) => void): void {
  const buffer = new WireBuffer();
  socket.on('data', (chunk: Buffer) => {
    buffer.feed(chunk);
    for (let line = buffer.line(); line !== undefined; line = buffer.line()) handle(line);
  });
}

export function startFakeImap(messages: readonly Buffer[]): Promise<FakeServer> {
  return listen((socket, commands) => {
    socket.write('* OK fake IMAP4rev1 ready\r\n');
    onLines(socket, (line) => {
      const [tag, rawVerb, ...args] = line.split(' ');
      const verb = (rawVerb ?? '').toUpperCase();
      commands.set(verb, (commands.get(verb) ?? 0) + 1);
      if (verb === 'LOGIN') socket.write(`${tag} OK LOGIN done\r\n`);
      else if (verb === 'SELECT') socket.write(`* ${messages.length} EXISTS\r\n* 0 RECENT\r\n${tag} OK [READ-WRITE] SELECT done\r\n`);
      else if (verb === 'STATUS') socket.write(`* STATUS INBOX (MESSAGES ${messages.length})\r\n${tag} OK STATUS done\r\n`);
      else if (verb === 'FETCH' && args[0] === '1:*') {
        const parts = messages.map(
          (message, i) => `* ${i + 1} FETCH (UID ${i + 1} FLAGS () RFC822.SIZE ${message.length} ENVELOPE (NIL {5}\r\nsubj) NIL NIL NIL NIL NIL NIL NIL "<m${i}@x>"))\r\n`,
        );
        socket.write(`${parts.join('')}${tag} OK FETCH done\r\n`);
      } else if (verb === 'FETCH') {
        const message = messages[Number(args[0]) - 1] ?? Buffer.alloc(0);
        socket.write(Buffer.concat([Buffer.from(`* ${args[0]} FETCH (BODY[] {${message.length}}\r\n`), message, Buffer.from(`)\r\n${tag} OK FETCH done\r\n`)]));
      } else if (verb === 'LOGOUT') socket.end(`* BYE\r\n${tag} OK LOGOUT done\r\n`);
      else socket.write(`${tag} BAD unknown\r\n`);
    });
  });
}

function stuffed(message: Buffer): Buffer {
  const text = message.toString('latin1').replace(/^\./gmu, '..');
  return Buffer.from(text.endsWith('\r\n') ? text : `${text}\r\n`, 'latin1');
}

export function startFakePop3(messages: readonly Buffer[], options: { pipelining: boolean }): Promise<FakeServer> {
  return listen((socket, commands) => {
    socket.write('+OK fake POP3 ready\r\n');
    onLines(socket, (line) => {
      const [rawVerb, arg] = line.split(' ');
      const verb = (rawVerb ?? '').toUpperCase();
      commands.set(verb, (commands.get(verb) ?? 0) + 1);
      if (verb === 'CAPA') socket.write(`+OK\r\nUSER\r\nUIDL\r\n${options.pipelining ? 'PIPELINING\r\n' : ''}.\r\n`);
      else if (verb === 'USER' || verb === 'PASS') socket.write('+OK\r\n');
      else if (verb === 'STAT') socket.write(`+OK ${messages.length} ${messages.reduce((sum, m) => sum + m.length, 0)}\r\n`);
      else if (verb === 'UIDL') socket.write(`+OK\r\n${messages.map((_, i) => `${i + 1} u${i + 1}\r\n`).join('')}.\r\n`);
      else if (verb === 'RETR') {
        const message = messages[Number(arg) - 1];
        socket.write(message ? Buffer.concat([Buffer.from('+OK\r\n'), stuffed(message), Buffer.from('.\r\n')]) : '-ERR no such message\r\n');
      } else if (verb === 'QUIT') socket.end('+OK bye\r\n');
      else socket.write('-ERR unknown\r\n');
    });
  });
}
