/** Jobs and results of the load-generator workers, shared by the workers and the scenarios (no side effects). */

export interface SmtpJob {
  host: string;
  port: number;
  sessions: number;
  messages: number;
  bodyBytes: number;
  from: string;
  to: string;
  /** Distinguishes this worker's Message-IDs and subjects. */
  label: string;
  ehloName: string;
  starttls?: { ca: string; servername: string };
  auth?: { user: string; password: string };
}

export interface SmtpResult {
  accepted: number;
  failed: number;
  latenciesMs: number[];
  lastAcceptAt: number;
  errors: string[];
}

export interface ImapJob {
  host: string;
  port: number;
  clients: { user: string; password: string }[];
  seconds: number;
  bodies: number;
}

export const IMAP_COMMAND_KINDS = ['LOGIN', 'SELECT', 'FETCH_ALL', 'FETCH_BODY', 'LOGOUT'] as const;

export type ImapCommandKind = (typeof IMAP_COMMAND_KINDS)[number];

export interface ImapResult {
  commands: number;
  loops: number;
  latenciesMs: Record<ImapCommandKind, number[]>;
  bodyOctets: number;
  endedAt: number;
  errors: string[];
}

export interface Pop3Job {
  host: string;
  port: number;
  sessions: { user: string; password: string }[];
  /** RETR commands in flight per session when pipelining is offered. */
  window: number;
}

export interface Pop3Result {
  messages: number;
  octets: number;
  pipelined: boolean;
  sessionMs: number[];
  endedAt: number;
}
