/**
 * Fake peers for the delivery tests (imported by tests only): an SMTP or LMTP server on
 * smtp-server that records what it receives and answers as scripted, and raw TCP peers
 * for what a real server library would never do (garbage greetings, silence).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMessage {
  mailFrom: string;
  rcptTo: string[];
  data: Buffer;
  secure: boolean;
}

/** An SMTP reply the fake gives: `[code, text]`; undefined = accept. */
export type ScriptedReply = [number, string] | undefined;

export interface FakePeerScript {
  lmtp?: boolean;
  host?: string;
  /** Port to listen on (0 = any); a peer "coming back" reuses its old port. */
  port?: number;
  /** Reply to RCPT TO. */
  rcpt?: (address: string) => ScriptedReply;
  /** Reply to MAIL FROM. */
  mail?: (address: string) => ScriptedReply;
  /** SMTP: one reply after DATA; LMTP: per recipient. */
  data?: (recipient: string) => ScriptedReply;
  /** TLS options (key, cert) to offer STARTTLS; without them STARTTLS is hidden. */
  tls?: { key: string; cert: string };
}

export interface FakePeer {
  host: string;
  port: number;
  received: ReceivedMessage[];
  /** Connections accepted so far. */
  connections: number;
  /** Closes every open connection from the server side at once (the clients learn it later). */
  dropConnections(): void;
  close(): Promise<void>;
}

function replyError([code, text]: [number, string]): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startFakePeer(script: FakePeerScript = {}): Promise<FakePeer> {
  const received: ReceivedMessage[] = [];
  const state = { connections: 0 };
  const options: SMTPServerOptions = {
    lmtp: script.lmtp ?? false,
    authOptional: true,
    disabledCommands: ['AUTH'],
    hideSTARTTLS: script.tls === undefined,
    ...(script.tls === undefined ? {} : { key: script.tls.key, cert: script.tls.cert }),
    logger: false,
    onConnect(_session, callback) {
      state.connections += 1;
      callback();
    },
    onMailFrom(address: SMTPServerAddress, _session, callback) {
      const reply = script.mail?.(address.address);
      callback(reply === undefined ? null : replyError(reply));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const reply = script.rcpt?.(address.address);
      callback(reply === undefined ? null : replyError(reply));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const rcptTo = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        const replies = rcptTo.map((rcpt) => script.data?.(rcpt));
        const accepted = rcptTo.filter((_, i) => replies[i] === undefined);
        const mailFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        if (script.lmtp) {
          if (accepted.length > 0) received.push({ mailFrom, rcptTo: accepted, data: Buffer.concat(chunks), secure: session.secure });
          const results = replies.map((reply) => (reply === undefined ? 'ok' : replyError(reply)));
          callback(null, results as unknown as string);
          return;
        }
        const first = replies.find((reply) => reply !== undefined);
        if (first !== undefined) return callback(replyError(first));
        received.push({ mailFrom, rcptTo, data: Buffer.concat(chunks), secure: session.secure });
        callback(null, 'queued as FAKE');
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => undefined);
  const sockets = new Set<Socket>();
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const host = script.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(script.port ?? 0, host, () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    host,
    port,
    received,
    get connections() {
      return state.connections;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A raw TCP peer: `onSocket` scripts the whole conversation. */
export async function startRawPeer(onSocket: (socket: Socket) => void, host = '127.0.0.1'): Promise<FakePeer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    host,
    port: (server.address() as AddressInfo).port,
    received: [],
    get connections() {
      return state.connections;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port that was free a moment ago: connections to it are refused. */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `check` is true, polling; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
