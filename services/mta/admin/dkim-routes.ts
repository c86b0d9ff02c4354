/**
 * The MTA's DKIM keys on the admin endpoint (issue 13, key rotation; services/mta/auth/README.md):
 *
 *   GET  /dkim            per domain: the selectors signed with, every key's public record
 *   POST /dkim/keys       {"domain","selector","algorithm"?: "rsa-sha256"|"ed25519-sha256"}:
 *                         a new key on the MTA's volume; 201 and the TXT record to publish
 *   PUT  /dkim/signing    {"domain","selectors":[…]}: sign with these from now on; 409 while
 *                         the lab DNS does not serve each one's public key
 *
 * Private keys are never served.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../../../shared/log.ts';
import type { DkimKeyStore } from '../auth/key-store.ts';

const newKeySchema = z.strictObject({
  domain: z.string().min(1).max(253),
  selector: z.string().min(1).max(63),
  algorithm: z.enum(['rsa-sha256', 'ed25519-sha256']).optional(),
});
const signingSchema = z.strictObject({ domain: z.string().min(1).max(253), selectors: z.array(z.string().min(1).max(63)).min(1).max(4) });

function issues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
}

export function dkimRoutes({ keys, logger }: { keys: DkimKeyStore; logger: Logger }): Router {
  const routes = Router();
  routes.get('/', (_req: Request, res: Response) => void res.json({ domains: keys.list() }));

  routes.post('/keys', async (req: Request, res: Response) => {
    const input = newKeySchema.safeParse(req.body);
    if (!input.success) return void res.status(400).json({ error: issues(input.error) });
    const made = await keys.generate(input.data.domain, input.data.selector, input.data.algorithm);
    if (!made.ok) return void res.status(made.status).json({ error: made.error });
    logger.warn({ event: 'dkim.key-made', domain: input.data.domain, selector: made.value.selector, algorithm: made.value.algorithm }, `DKIM key ${made.value.dnsName} made: publish it before signing with it`);
    res.status(201).json(made.value);
  });

  routes.put('/signing', async (req: Request, res: Response) => {
    const input = signingSchema.safeParse(req.body);
    if (!input.success) return void res.status(400).json({ error: issues(input.error) });
    const used = await keys.use(input.data.domain, input.data.selectors);
    if (!used.ok) return void res.status(used.status).json({ error: used.error });
    logger.warn({ event: 'dkim.signing', domain: used.value.domain, selectors: used.value.signing }, `DKIM: ${used.value.domain} is signed with ${used.value.signing.join(', ')} from now on`);
    res.json(used.value);
  });
  return routes;
}
