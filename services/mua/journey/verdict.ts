/**
 * Reads the content filter's verdict (the caller's X-Spam-* and X-Virus-* fields, in
 * SpamAssassin's and ClamAV's customary forms) and Authentication-Results (RFC 8601).
 */
import type { HeaderField } from './headers.ts';

export interface RuleHit {
  name: string;
  score?: number;
  description?: string;
}

export interface SpamVerdict {
  isSpam?: boolean;
  score?: number;
  threshold?: number;
  rules: RuleHit[];
  /** X-Spam-Checker-Version: which engine scored it. */
  checker?: string;
}

export interface VirusVerdict {
  status: 'clean' | 'infected' | 'unknown';
  names: string[];
  scanner?: string;
}

export interface Verdict {
  spam?: SpamVerdict;
  virus?: VirusVerdict;
  /** Every X-Spam-* / X-Virus-* field as found, for the raw view. */
  fields: HeaderField[];
}

export interface AuthResult {
  method: string;
  result: string;
  properties: Record<string, string>;
  /** The result's comment (RFC 8601 §2.3), e.g. SPF's `(mx1.beta.test: domain of … designates …)`. */
  comment?: string;
}

export interface AuthenticationResults {
  authservId: string;
  results: AuthResult[];
}

function number(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** `A=1.2,B=0.5`, `A(1.2) B(0.5)`, `A, B` — one rule per item. */
export function parseRuleList(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const item of text.split(/[,\s]+/u).filter((part) => part !== '')) {
    const match = /^([A-Za-z0-9_.-]+?)(?:[=:](-?\d+(?:\.\d+)?)|\((-?\d+(?:\.\d+)?)\))?$/u.exec(item);
    if (!match?.[1] || match[1].toLowerCase() === 'none') continue;
    const score = number(match[2] ?? match[3]);
    hits.push(score === undefined ? { name: match[1] } : { name: match[1], score });
  }
  return hits;
}

/** SpamAssassin's report table: ` 1.2 RULE_NAME  Description`. */
function parseReport(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  const pattern = /(-?\d+(?:\.\d+)?)\s+([A-Z][A-Z0-9_]+)\s+(.*?)(?=\s+-?\d+(?:\.\d+)?\s+[A-Z][A-Z0-9_]+\s|$)/gu;
  for (const match of text.matchAll(pattern)) {
    const score = number(match[1]);
    if (match[2] && score !== undefined) hits.push({ name: match[2], score, description: (match[3] ?? '').trim() });
  }
  return hits;
}

function mergeRules(into: RuleHit[], more: RuleHit[]): void {
  for (const hit of more) {
    const existing = into.find((rule) => rule.name === hit.name);
    if (!existing) into.push({ ...hit });
    else {
      existing.score ??= hit.score;
      existing.description ??= hit.description;
    }
  }
}

function yesNo(text: string): boolean | undefined {
  if (/^\s*(yes|true|1)\b/iu.test(text)) return true;
  if (/^\s*(no|false|0)\b/iu.test(text)) return false;
  return undefined;
}

function readSpam(fields: HeaderField[]): SpamVerdict | undefined {
  const spam: SpamVerdict = { rules: [] };
  let seen = false;
  for (const { name, value } of fields) {
    if (!name.startsWith('x-spam-')) continue;
    seen = true;
    const key = name.slice('x-spam-'.length);
    if (key === 'flag') spam.isSpam ??= yesNo(value);
    else if (key === 'score') spam.score ??= number(value.split(/[\s/]/u)[0]);
    else if (key === 'threshold' || key === 'required') spam.threshold ??= number(value);
    else if (key === 'checker-version') spam.checker ??= value;
    else if (key === 'status') {
      spam.isSpam ??= yesNo(value);
      spam.score ??= number(/score=(-?[\d.]+)/u.exec(value)?.[1]);
      spam.threshold ??= number(/required=(-?[\d.]+)/u.exec(value)?.[1]);
      const tests = /tests=(.*?)(?:\s+(?:autolearn|version|[a-z_]+)=|$)/u.exec(value)?.[1];
      if (tests) mergeRules(spam.rules, parseRuleList(tests));
    } else if (key === 'tests' || key === 'rules' || key === 'hits') mergeRules(spam.rules, parseRuleList(value));
    else if (key === 'report') mergeRules(spam.rules, parseReport(value));
  }
  if (!seen) return undefined;
  if (spam.isSpam === undefined && spam.score !== undefined && spam.threshold !== undefined) spam.isSpam = spam.score >= spam.threshold;
  return spam;
}

function readVirus(fields: HeaderField[]): VirusVerdict | undefined {
  let virus: VirusVerdict | undefined;
  for (const { name, value } of fields) {
    if (!name.startsWith('x-virus-')) continue;
    virus ??= { status: 'unknown', names: [] };
    const key = name.slice('x-virus-'.length);
    if (key === 'scanned' || key === 'scanner') virus.scanner ??= value;
    else if (key === 'status') {
      if (/^\s*(clean|no)\b/iu.test(value)) virus.status = 'clean';
      else if (/^\s*(infected|yes)\b/iu.test(value)) virus.status = 'infected';
      const inner = /\(([^)]+)\)/u.exec(value)?.[1] ?? /name=(\S+)/u.exec(value)?.[1];
      if (inner) virus.names.push(...inner.split(/,\s*/u));
    } else if (key === 'found' || key === 'name' || key === 'names') {
      virus.status = 'infected';
      virus.names.push(...value.split(/,\s*/u).filter((item) => item !== ''));
    }
  }
  if (virus) virus.names = [...new Set(virus.names)];
  return virus;
}

export function readVerdict(fields: HeaderField[]): Verdict | undefined {
  const own = fields.filter((field) => field.name.startsWith('x-spam-') || field.name.startsWith('x-virus-'));
  if (own.length === 0) return undefined;
  const verdict: Verdict = { fields: own };
  const spam = readSpam(own);
  const virus = readVirus(own);
  if (spam) verdict.spam = spam;
  if (virus) verdict.virus = virus;
  return verdict;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '(') depth += 1;
    else if (!quoted && char === ')') depth = Math.max(0, depth - 1);
    if (char === separator && !quoted && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/** RFC 8601 §2.2: `authserv-id [version]; method=result [(comment)] [reason=…] [ptype.property=value…]; …` */
export function parseAuthenticationResults(value: string): AuthenticationResults {
  const [first = '', ...rest] = splitOutsideQuotes(value, ';');
  const results: AuthResult[] = [];
  for (const part of rest) {
    const clean = part.replace(/\([^)]*\)/gu, ' ');
    const head = /^([\w.-]+)(?:\/\d+)?\s*=\s*([\w-]+)/u.exec(clean.trim());
    if (!head?.[1] || !head[2]) continue;
    const properties: Record<string, string> = {};
    for (const match of clean.slice(clean.indexOf(head[2]) + head[2].length).matchAll(/([\w-]+(?:\.[\w-]+)+|reason)\s*=\s*("[^"]*"|\S+)/gu)) {
      if (match[1] && match[2]) properties[match[1]] = match[2].replace(/^"|"$/gu, '');
    }
    const result: AuthResult = { method: head[1].toLowerCase(), result: head[2].toLowerCase(), properties };
    const comment = /\(([^()]*)\)/u.exec(part)?.[1]?.trim();
    if (comment) result.comment = comment;
    results.push(result);
  }
  return { authservId: first.split(/\s+/u)[0] ?? '', results };
}
