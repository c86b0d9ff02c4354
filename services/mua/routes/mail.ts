/**
 * Reading mail: folders, the message list, one message (view, sanitized HTML frame,
 * attachments, journey, reply/forward draft), and the changes: flags, move, delete.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { draftFor } from '../compose.ts';
import { journeyOf } from '../journey/journey.ts';
import { INLINE_PART_PATH } from '../inline-parts.ts';
import { frameCsp, frameDocument } from '../message-frame.ts';
import { inlineImages, listedAttachments, messageView, parseMessage, sanitizedHtml } from '../message-view.ts';
import type { Session } from '../sessions.ts';
import { currentSession, folderParam, requireSession, storeOf, uidParam, UserError, type MuaContext } from './context.ts';

export const PAGE_SIZE = 25;
const MAX_QUERY_LENGTH = 200;
const FLAGS = { seen: '\\Seen', flagged: '\\Flagged', answered: '\\Answered' } as const;

async function source(ctx: MuaContext, session: Session, req: Request): Promise<Buffer> {
  const store = await storeOf(ctx, session);
  const raw = await store.fetchSource(folderParam(req.query.folder), uidParam(req.query.uid));
  if (!raw) throw new UserError(404, 'This message is no longer there.');
  return raw;
}

const flagSchema = z.object({ folder: z.string(), uid: z.number().int(), flag: z.enum(['seen', 'flagged']), on: z.boolean() });
const moveSchema = z.object({ folder: z.string(), uid: z.number().int(), target: z.string() });
const deleteSchema = z.object({ folder: z.string(), uid: z.number().int() });

function body<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UserError(400, 'The request was incomplete.');
  return parsed.data;
}

/** `http://host:port` of this request, for the frame's CSP; undefined for a Host that is not a plain name. */
function appOrigin(req: Request): string | undefined {
  const host = req.get('host') ?? '';
  if (!/^(?:[\w.-]+|\[[\da-f:.]+\])(?::\d{1,5})?$/iu.test(host)) return undefined;
  return `${req.protocol}://${host}`;
}

/**
 * Inline images of a message frame, by the frame's token (inline-parts.ts): the sandboxed
 * frame sends no cookie, so the token names the session, which must still be live.
 * Mounted before the routers that require a session cookie.
 */
export function inlinePartRoutes(ctx: MuaContext): Router {
  const router = Router();
  router.get(`${INLINE_PART_PATH.replace(/^\/api/u, '')}/:token/:index`, async (req: Request, res: Response) => {
    const link = ctx.inlineLinks.resolve(String(req.params.token));
    const session = link === undefined ? undefined : ctx.sessions.get(link.sessionId);
    if (link === undefined || session === undefined) throw new UserError(404, 'This image link has expired. Open the message again.');
    const store = await storeOf(ctx, session);
    const raw = await store.fetchSource(link.folder, link.uid);
    if (!raw) throw new UserError(404, 'This message is no longer there.');
    const part = inlineImages(await parseMessage(raw))[Number(req.params.index)];
    if (!part) throw new UserError(404, 'No such inline image.');
    res.set('Content-Security-Policy', "default-src 'none'; sandbox");
    res.set('Cache-Control', 'private, max-age=600');
    res.type(part.contentType).send(part.content);
  });
  return router;
}

export function mailRoutes(ctx: MuaContext): Router {
  const router = Router();
  router.use(requireSession(ctx));

  router.get('/folders', async (_req: Request, res: Response) => {
    const store = await storeOf(ctx, currentSession(res));
    res.json({ folders: await store.listFolders() });
  });

  router.get('/messages', async (req: Request, res: Response) => {
    const store = await storeOf(ctx, currentSession(res));
    const page = Math.max(1, Math.min(100_000, Number(req.query.page) || 1));
    const query = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, MAX_QUERY_LENGTH) : '';
    res.json(await store.listMessages(folderParam(req.query.folder), { page, pageSize: PAGE_SIZE, ...(query ? { query } : {}) }));
  });

  router.get('/message', async (req: Request, res: Response) => {
    const session = currentSession(res);
    const raw = await source(ctx, session, req);
    const parsed = await parseMessage(raw);
    const store = await storeOf(ctx, session);
    if (req.query.markSeen !== '0') await store.setFlag(folderParam(req.query.folder), uidParam(req.query.uid), FLAGS.seen, true);
    // The newest hop's DMARC result for the From domain, which the reading pane marks when it failed.
    const { senderCheck } = journeyOf(raw);
    res.json({ ...messageView(parsed), ...(senderCheck ? { senderCheck } : {}), blockedImages: parsed.html ? sanitizedHtml(parsed, false).blockedImages : 0 });
  });

  router.get('/message/frame', async (req: Request, res: Response) => {
    const session = currentSession(res);
    const parsed = await parseMessage(await source(ctx, session, req));
    const remote = req.query.images === '1';
    // One token per frame; each cid: reference points at its part, which the browser loads once.
    let token: string | undefined;
    const partUrl = (index: number): string => {
      token ??= ctx.inlineLinks.issue({ sessionId: session.id, folder: folderParam(req.query.folder), uid: uidParam(req.query.uid) });
      return `${INLINE_PART_PATH}/${token}/${index}`;
    };
    const document = frameDocument(sanitizedHtml(parsed, remote, partUrl));
    res.set('Content-Security-Policy', frameCsp(remote, appOrigin(req)));
    res.set('X-Frame-Options', 'SAMEORIGIN');
    res.type('html').send(document);
  });

  router.get('/message/attachment', async (req: Request, res: Response) => {
    const parsed = await parseMessage(await source(ctx, currentSession(res), req));
    const attachment = listedAttachments(parsed)[Number(req.query.index)];
    if (!attachment) throw new UserError(404, 'No such attachment.');
    const filename = (attachment.filename ?? 'attachment').replace(/[\u0000-\u001f"\\/]/gu, '_');
    res.set('Content-Security-Policy', "default-src 'none'; sandbox");
    res.attachment(filename);
    res.type(/^[\w.+-]+\/[\w.+-]+$/u.test(attachment.contentType) ? attachment.contentType : 'application/octet-stream');
    res.send(attachment.content);
  });

  router.get('/message/source', async (req: Request, res: Response) => {
    res.set('Content-Security-Policy', "default-src 'none'; sandbox");
    res.type('text/plain; charset=utf-8').send(await source(ctx, currentSession(res), req));
  });

  router.get('/message/journey', async (req: Request, res: Response) => {
    const session = currentSession(res);
    const imap = session.servers.imap;
    // The last leg, which no header records: this client reading the mailbox over IMAP.
    const retrieval = { server: imap.servername, address: imap.host, port: imap.port, protocol: 'IMAP', tls: 'STARTTLS', found: imap.source };
    res.json({ ...journeyOf(await source(ctx, session, req)), retrieval });
  });

  router.get('/message/draft', async (req: Request, res: Response) => {
    const mode = req.query.mode;
    if (mode !== 'reply' && mode !== 'all' && mode !== 'forward') throw new UserError(400, 'Unknown draft kind.');
    const session = currentSession(res);
    const view = messageView(await parseMessage(await source(ctx, session, req)));
    res.json({ ...draftFor(view, mode, [session.address]), attachments: mode === 'forward' ? view.attachments : [] });
  });

  router.post('/message/flag', async (req: Request, res: Response) => {
    const input = body(flagSchema, req.body);
    const store = await storeOf(ctx, currentSession(res));
    await store.setFlag(folderParam(input.folder), uidParam(input.uid), FLAGS[input.flag], input.on);
    res.json({ ok: true });
  });

  router.post('/message/move', async (req: Request, res: Response) => {
    const input = body(moveSchema, req.body);
    const store = await storeOf(ctx, currentSession(res));
    await store.move(folderParam(input.folder), uidParam(input.uid), folderParam(input.target));
    res.json({ ok: true });
  });

  router.post('/message/delete', async (req: Request, res: Response) => {
    const input = body(deleteSchema, req.body);
    const store = await storeOf(ctx, currentSession(res));
    await store.trash(folderParam(input.folder), uidParam(input.uid));
    res.json({ ok: true });
  });

  return router;
}
