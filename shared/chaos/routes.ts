/**
 * The fault plan on the admin endpoint (issue 16), the contract `npm run chaos` and the
 * e2e fixture speak:
 *
 *   GET    /chaos/rules        every rule with `matched` and `fired`
 *   POST   /chaos/rules        add one rule: 201 and the rule; 400 naming the field; 409 for a taken id
 *   PUT    /chaos/rules        replace the plan with `{"rules": [...]}`: all or nothing
 *   GET    /chaos/rules/<id>   one rule
 *   DELETE /chaos/rules/<id>   remove one
 *   DELETE /chaos/rules        remove all
 *
 * `GET /chaos` is the same list (the older path).
 */
import { Router, type Request, type Response } from 'express';
import type { Logger } from '../log.ts';
import type { ChaosEngine } from './engine.ts';

export function chaosRoutes({ chaos, logger }: { chaos: ChaosEngine; logger: Logger }): Router {
  const routes = Router();
  const list = (_req: Request, res: Response) => void res.json({ rules: chaos.list() });

  routes.get('/', list);
  routes.get('/rules', list);

  routes.post('/rules', (req: Request, res: Response) => {
    const added = chaos.add(req.body as unknown);
    if (!added.ok) return void res.status(added.status ?? 400).json({ error: `invalid chaos rule: ${added.error}` });
    res.status(201).json(added.value);
  });

  routes.put('/rules', (req: Request, res: Response) => {
    const replaced = chaos.replace(req.body as unknown);
    if (!replaced.ok) return void res.status(replaced.status ?? 400).json({ error: `invalid chaos plan: ${replaced.error}` });
    res.json({ rules: replaced.value });
  });

  routes.get('/rules/:id', (req: Request, res: Response) => {
    const rule = chaos.get(String(req.params.id));
    if (rule === undefined) return void res.status(404).json({ error: `no chaos rule ${String(req.params.id)}` });
    res.json(rule);
  });

  routes.delete('/rules/:id', (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!chaos.remove(id)) return void res.status(404).json({ error: `no chaos rule ${id}` });
    res.json({ deleted: id });
  });

  routes.delete('/rules', (_req: Request, res: Response) => {
    const count = chaos.clear();
    logger.info({ event: 'admin.chaos.clear', count }, 'chaos rules cleared by admin');
    res.json({ deleted: count });
  });

  return routes;
}
