/**
 * The caller's HTTP API, version 1: the contract between the MTA (client) and the
 * caller (server). `POST /v1/scan` with the raw message as the body
 * (`Content-Type: message/rfc822`, streamed) and the envelope and policy as JSON in the
 * `X-Mxlab-Scan` header (base64url); the answer is a `ScanVerdict` as JSON.
 */
import { z } from 'zod';

export const SCAN_PATH = '/v1/scan';
export const SCAN_REQUEST_HEADER = 'x-mxlab-scan';

export const scanRequestSchema = z.object({
  queueId: z.string().optional(),
  messageId: z.string().optional(),
  clientAddress: z.string(),
  helo: z.string(),
  mailFrom: z.string(),
  rcptTo: z.array(z.string()).min(1),
  /** The MTA's SPF/DKIM/DMARC/ARC results (services/mta/auth), when it checked; the spam score counts failures. */
  auth: z
    .object({
      spf: z.string(),
      helo: z.string(),
      dkim: z.array(z.object({ domain: z.string(), selector: z.string(), result: z.string() })),
      dmarc: z.object({ result: z.string(), policy: z.string().optional(), domain: z.string().optional() }),
      arc: z.string(),
      /** The lab's own backup MX sealed it (ARC, trusted): its SPF result where the message entered. */
      trustedForwarder: z.object({ sealer: z.string(), spf: z.string() }).optional(),
    })
    .optional(),
  /** Policy configured in the MTA: scores at or over these tag / reject. */
  policy: z.object({
    tagScore: z.number().default(5),
    rejectScore: z.number().nullable().default(null),
  }),
});
export type ScanRequest = z.infer<typeof scanRequestSchema>;

export const ruleHitSchema = z.object({ name: z.string(), score: z.number(), description: z.string() });
export type RuleHit = z.infer<typeof ruleHitSchema>;

export const engineResultSchema = z.object({
  engine: z.string(),
  kind: z.enum(['virus', 'spam']),
  status: z.enum(['clean', 'infected', 'scored', 'error', 'timeout']),
  /** Virus names (virus engines). */
  viruses: z.array(z.string()).default([]),
  /** Score and rule hits (spam engines). */
  score: z.number().optional(),
  rules: z.array(ruleHitSchema).default([]),
  detail: z.string().optional(),
  elapsedMs: z.number(),
});
export type EngineResult = z.infer<typeof engineResultSchema>;

export const verdictActionSchema = z.enum(['accept', 'tag', 'quarantine', 'reject', 'tempfail']);
export type VerdictAction = z.infer<typeof verdictActionSchema>;

export const scanVerdictSchema = z.object({
  version: z.literal(1),
  action: verdictActionSchema,
  /** SMTP reply for reject and tempfail, e.g. 554 5.7.1 or 451 4.7.1. */
  smtp: z.object({ code: z.number().int(), enhanced: z.string(), message: z.string() }).optional(),
  /** Headers to prepend to the message (X-Spam-*, X-Virus-*), in order. */
  headers: z.array(z.object({ name: z.string(), value: z.string() })),
  spam: z.object({ score: z.number(), tagScore: z.number(), rejectScore: z.number().nullable(), isSpam: z.boolean() }),
  virus: z.object({ infected: z.boolean(), names: z.array(z.string()) }),
  engines: z.array(engineResultSchema),
  elapsedMs: z.number(),
});
export type ScanVerdict = z.infer<typeof scanVerdictSchema>;

export function encodeScanRequest(request: ScanRequest): string {
  return Buffer.from(JSON.stringify(request)).toString('base64url');
}

export function decodeScanRequest(header: string): ScanRequest {
  return scanRequestSchema.parse(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')));
}
