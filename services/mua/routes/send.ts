/**
 * Sending: the compose form becomes an RFC 5322 message, submitted through the domain's
 * submission server as the user, then a copy is appended to Sent. A refusal is shown with
 * the server's own code and words.
 */
import { Router, type Request, type Response } from 'express';
import { buildMessage, parseAddressField, type OutgoingAttachment } from '../compose.ts';
import { SubmitRefused } from '../gateway.ts';
import { listedAttachments, parseMessage } from '../message-view.ts';
import { currentSession, folderParam, requireSession, storeOf, uidParam, UserError, type MuaContext } from './context.ts';
import { readComposeForm } from './multipart.ts';

/** RFC 5322 §2.1.1 keeps lines short; a subject this long is a mistake. */
const MAX_SUBJECT_LENGTH = 998;
const MAX_RECIPIENTS = 100;
/** The lab zones name the web mail host `mail.<domain>`; the MUA greets as that. */
const WEBMAIL_HOST = 'mail';
/** Each send holds its form (up to MAX_FORM_BYTES) and the built message in memory. */
export const MAX_CONCURRENT_SENDS = 4;

function addressField(fields: Map<string, string>, name: string, label: string) {
  const result = parseAddressField(fields.get(name) ?? '');
  if (!result.ok) throw new UserError(400, `${label}: ${result.reason}.`);
  return result.addresses;
}

export function refusalText(error: SubmitRefused): string {
  const reply = error.response.replace(/\s+/gu, ' ').trim();
  const kind = error.code !== undefined && error.code >= 500 ? 'refused' : 'could not take';
  return `The mail server ${kind} the message: ${reply || error.message}`;
}

export function sendRoutes(ctx: MuaContext): Router {
  const router = Router();
  router.use(requireSession(ctx));
  let sending = 0;

  router.post('/send', async (req: Request, res: Response) => {
    if (sending >= MAX_CONCURRENT_SENDS) {
      res.set('Retry-After', '5');
      throw new UserError(503, 'The web mail is busy sending other messages. Try again in a few seconds.');
    }
    sending += 1;
    try {
      await send(req, res);
    } finally {
      sending -= 1;
    }
  });

  async function send(req: Request, res: Response): Promise<void> {
    const session = currentSession(res);
    const form = await readComposeForm(req);
    const to = addressField(form.fields, 'to', 'To');
    const cc = addressField(form.fields, 'cc', 'Cc');
    const bcc = addressField(form.fields, 'bcc', 'Bcc');
    const recipients = [...to, ...cc, ...bcc].map((item) => item.address);
    if (recipients.length === 0) throw new UserError(400, 'Add at least one recipient.');
    if (recipients.length > MAX_RECIPIENTS) throw new UserError(400, `At most ${MAX_RECIPIENTS} recipients.`);
    const subject = (form.fields.get('subject') ?? '').replace(/[\r\n]+/gu, ' ').slice(0, MAX_SUBJECT_LENGTH);
    const store = await storeOf(ctx, session);

    const attachments: OutgoingAttachment[] = [...form.files];
    const forwardFolder = form.fields.get('forwardFolder');
    if (forwardFolder) {
      const raw = await store.fetchSource(folderParam(forwardFolder), uidParam(form.fields.get('forwardUid')));
      if (raw) {
        for (const original of listedAttachments(await parseMessage(raw))) {
          attachments.push({ filename: original.filename ?? 'attachment', contentType: original.contentType, content: original.content });
        }
      }
    }
    const inReplyTo = form.fields.get('inReplyTo')?.trim();
    const references = (form.fields.get('references') ?? '').split(/\s+/u).filter((item) => /^<[^<>\s]+>$/u.test(item));
    const { raw, messageId } = await buildMessage({
      from: { name: '', address: session.address },
      to, cc, bcc, subject,
      text: form.fields.get('text') ?? '',
      ...(inReplyTo && /^<[^<>\s]+>$/u.test(inReplyTo) ? { inReplyTo } : {}),
      references,
      attachments,
    });

    try {
      const envelope = { from: session.address, to: recipients };
      await ctx.submitter.send(session.servers.submission, session.credentials, envelope, raw, `${WEBMAIL_HOST}.${session.domain}`);
    } catch (error) {
      if (error instanceof SubmitRefused) {
        ctx.log.info({ user: session.address, messageId, code: error.code, response: error.response }, 'submission refused');
        // The mail server said no: 422 (the request was understood, the message refused), with its code.
        res.status(422).json({ ok: false, error: refusalText(error), code: error.code ?? null });
        return;
      }
      ctx.log.warn({ err: error, user: session.address, messageId }, 'submission failed');
      throw new UserError(502, `The mail server (${session.servers.submission.servername}) cannot be reached right now; the message was not sent.`);
    }
    ctx.log.info({ user: session.address, messageId, recipients: recipients.length }, 'message submitted');

    let savedTo: string | undefined;
    try {
      savedTo = await store.appendTo('sent', raw, ['\\Seen']);
    } catch (error) {
      ctx.log.warn({ err: error, user: session.address, messageId }, 'could not save a copy in Sent');
    }
    const replyFolder = form.fields.get('replyFolder');
    if (replyFolder) {
      try {
        await store.setFlag(folderParam(replyFolder), uidParam(form.fields.get('replyUid')), '\\Answered', true);
      } catch (error) {
        ctx.log.warn({ err: error, user: session.address }, 'could not mark the original as answered');
      }
    }
    res.json({ ok: true, messageId, savedTo: savedTo ?? null });
  }

  return router;
}
