/**
 * Sends a finished message through the domain's submission server (RFC 6409) with
 * nodemailer: STARTTLS required, the lab CA trusted, AUTH as the user. A refusal keeps
 * the server's reply code and text so the person sees what the server said.
 */
import { createTransport } from 'nodemailer';
import type { Endpoint } from './discovery.ts';
import { SubmitRefused, type Credentials, type Envelope, type Submitter } from './gateway.ts';
import { clientTls } from './tls-trust.ts';

const CONNECT_TIMEOUT_MS = 10_000;
/** RFC 5321 §4.5.3.2.6: the server may take minutes after the final dot; the lab is quick. */
const SEND_TIMEOUT_MS = 60_000;

interface SmtpError {
  responseCode?: number;
  response?: string;
  code?: string;
  message: string;
}

export function smtpSubmitter(ca: () => Promise<string>): Submitter {
  return {
    async send(endpoint: Endpoint, credentials: Credentials, envelope: Envelope, raw: Buffer, clientName: string) {
      const transport = createTransport({
        host: endpoint.host,
        port: endpoint.port,
        secure: false,
        requireTLS: true,
        name: clientName,
        tls: clientTls(await ca(), endpoint),
        auth: { user: credentials.user, pass: credentials.password },
        connectionTimeout: CONNECT_TIMEOUT_MS,
        greetingTimeout: CONNECT_TIMEOUT_MS,
        socketTimeout: SEND_TIMEOUT_MS,
      });
      try {
        const info = await transport.sendMail({ envelope: { from: envelope.from, to: envelope.to.join(', ') }, raw });
        return { response: String(info.response ?? '') };
      } catch (error) {
        const smtp = error as SmtpError;
        if (smtp.responseCode !== undefined) {
          throw new SubmitRefused(smtp.message, smtp.responseCode, smtp.response ?? smtp.message);
        }
        throw error;
      } finally {
        transport.close();
      }
    },
  };
}
