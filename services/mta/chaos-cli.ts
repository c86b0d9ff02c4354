/**
 * `npm run chaos -- <command>`: an MTA's fault plan from the shell (issue 16), through its
 * admin endpoint (`--url`, `--mta <agent>`, MTA_ADMIN_URL; MXLAB_ADMIN_TOKEN as for `npm run queue`).
 *
 *   list [--json]                 every rule, with how often it matched and fired
 *   set <rule.json | '{...}'>     add one rule (a file, or the JSON itself)
 *   clear [id]                    remove one rule, or all
 *   load <plan.json>              a one-MTA plan (`{"rules": [...]}`) replaces the plan of the
 *                                 MTA named by --url/--mta; a lab plan (`{"mtas": {...}}`)
 *                                 replaces each named MTA's plan, at its lab address or at
 *                                 `--urls beta-mx1=http://…,alpha-mta=http://…`
 *
 * Every rule is checked here with the MTAs' own schema first: a bad plan is refused with
 * the field named before any MTA is changed.
 */
import { readFile } from 'node:fs/promises';
import { addRule, clearRules, DEFAULT_ADMIN_URL, listRules, replacePlan, type ChaosRuleView } from './admin/client.ts';
import { adminTarget, CALLER, flag, labAdminUrl, MTAS, option, runMain, UsageError } from './admin/cli-args.ts';
import { plansOf } from '../../shared/chaos/plan-file.ts';
import { checkPlan, checkRule } from '../../shared/chaos/rules.ts';

const USAGE = `usage: npm run chaos -- [--url <url> | --mta <${[...MTAS, CALLER].join('|')}>] list [--json] | set <rule.json|'{json}'> | clear [id] | load <plan.json> [--urls name=url,…]
  MTA_ADMIN_URL  admin endpoint when neither --url nor --mta is given (default ${DEFAULT_ADMIN_URL})
  rules and plans: README "Fault plans"; an example: docs/chaos/example-plan.json
  --mta caller: the caller's DNS faults (stage "dns" rules only), on its HTTP API
`;

async function readJson(argument: string): Promise<unknown> {
  const text = argument.trimStart().startsWith('{') ? argument : await readFile(argument, 'utf8').catch((error: Error) => {
    throw new UsageError(`cannot read ${argument}: ${error.message}`);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${argument} is not JSON: ${(error as Error).message}`);
  }
}

const checkOptions = { now: Date.now(), nextId: () => 'checked' };

/** One line per rule: id, stage, fired/matched, what it does, until when. */
export function formatRules(rules: ChaosRuleView[]): string {
  if (rules.length === 0) return 'no chaos rules\n';
  const lines = rules.map((rule) => {
    const action = rule.reply
      ? `reply ${(rule.reply as { code: number }).code}`
      : rule.fault
        ? `fault ${String(rule.fault)}`
        : rule.drop
          ? `drop ${rule.drop === true ? 'connection' : String(rule.drop)}`
          : rule.blackhole
            ? 'blackhole'
            : `delay ${String(rule.delayMs)} ms`;
    const match = rule.match ? ` ${JSON.stringify(rule.match)}` : '';
    return `${rule.id.padEnd(16)} ${rule.stage.padEnd(10)} fired ${String(rule.fired).padStart(4)} of ${String(rule.matched).padStart(4)}  ${action}${match}  until ${rule.expiresAt}`;
  });
  return `${lines.join('\n')}\n`;
}

function parseUrls(text: string | undefined): Map<string, string> {
  const urls = new Map<string, string>();
  for (const pair of (text ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--urls takes name=url pairs, got ${pair}`);
    urls.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return urls;
}

async function load(plan: unknown, source: string, target: { url: string; token: string | undefined }, urls: Map<string, string>, token: string | undefined): Promise<string> {
  let plans;
  try {
    plans = plansOf(plan, source);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // Checked first, all of them: a refused plan changes no MTA.
  for (const [mta, one] of plans) {
    const checked = checkPlan(one, { ...checkOptions, ...(mta === undefined ? {} : { prefix: `mtas.${mta}` }) });
    if (!checked.ok) throw new UsageError(`invalid chaos plan ${source}: ${checked.error}`);
    const foreign = mta === CALLER ? checked.value.findIndex((rule) => rule.stage !== 'dns') : -1;
    if (foreign !== -1) throw new UsageError(`invalid chaos plan ${source}: mtas.${CALLER}.rules.${foreign}.stage: the caller takes dns rules only`);
  }
  const out: string[] = [];
  for (const [mta, one] of plans) {
    const where = mta === undefined ? target : { url: urls.get(mta) ?? labAdminUrl(mta, { caller: true }), token };
    const rules = await replacePlan(where, one);
    out.push(`${mta ?? where.url}: ${rules.length} rule${rules.length === 1 ? '' : 's'} (${rules.map((rule) => rule.id).join(', ')})`);
  }
  return `${out.join('\n')}\n`;
}

export async function runChaosCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const args = [...argv];
  const target = adminTarget(args, env, { caller: true });
  const urls = parseUrls(option(args, '--urls'));
  const command = args.shift();
  switch (command) {
    case 'list': {
      const json = flag(args, '--json');
      if (args.length > 0) throw new UsageError(`unexpected ${args.join(' ')}`);
      const rules = await listRules(target);
      return json ? `${JSON.stringify(rules, null, 2)}\n` : formatRules(rules);
    }
    case 'set': {
      if (args.length !== 1) throw new UsageError('set takes one rule (a file or JSON)');
      const rule = await readJson(args[0] as string);
      const checked = checkRule(rule, checkOptions);
      if (!checked.ok) throw new UsageError(`invalid chaos rule: ${checked.error}`);
      return formatRules([await addRule(target, rule)]);
    }
    case 'clear': {
      if (args.length > 1) throw new UsageError('clear takes at most one rule id');
      const count = await clearRules(target, args[0]);
      return `removed ${count} rule${count === 1 ? '' : 's'}\n`;
    }
    case 'load': {
      if (args.length !== 1) throw new UsageError('load takes one plan file');
      const file = args[0] as string;
      return load(await readJson(file), file, target, urls, target.token);
    }
    default:
      throw new UsageError(command === undefined ? 'missing command' : `unknown command ${command}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(() => runChaosCli(process.argv.slice(2)), USAGE);
