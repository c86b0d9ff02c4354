// The journey view: the message's trace fields as a timeline of hops.
import { formatDelay, formatFullDate, formatTime, h } from './dom.js';
import { icon } from './icons.js';

const PROTOCOLS = {
  ESMTPSA: 'Extended SMTP, over TLS, with SMTP AUTH (RFC 3848)',
  ESMTPS: 'Extended SMTP, over TLS (RFC 3848)',
  ESMTPA: 'Extended SMTP, with SMTP AUTH, no TLS (RFC 3848)',
  ESMTP: 'Extended SMTP, no TLS (RFC 5321)',
  SMTP: 'Plain SMTP (RFC 5321)',
  LMTP: 'Local Mail Transfer Protocol, to the mailbox store (RFC 2033)',
  LMTPS: 'LMTP over TLS (RFC 3848)',
  LMTPA: 'LMTP with authentication (RFC 3848)',
  LMTPSA: 'LMTP over TLS, with authentication (RFC 3848)',
};

const KINDS = {
  submission: { label: 'Submission', text: 'The author’s mail client handed the message to its own domain’s server, after logging in.' },
  relay: { label: 'Relay', text: 'One mail server passed it to the next one, found through the recipient domain’s MX records.' },
  delivery: { label: 'Delivery', text: 'The mail server handed it to the delivery agent, which wrote it into the mailbox.' },
  other: { label: 'Hop', text: 'A server took the message over.' },
};

function badge(text, kind, title) {
  return h('span', { class: `badge badge-${kind}`, title }, text);
}

function hopCard(hop) {
  const kind = KINDS[hop.kind] ?? KINDS.other;
  const from = [hop.fromHelo, hop.fromHost && hop.fromHost !== hop.fromHelo ? hop.fromHost : null].filter(Boolean).join(' / ');
  const tlsText = hop.tls ? `TLS${hop.tlsVersion ? ` ${hop.tlsVersion.replace(/^TLSv?/i, '')}` : ''}` : 'no TLS';
  const tlsTitle = hop.tls ? (hop.cipher ? `Encrypted with ${hop.cipher}` : 'Encrypted in transit') :
    (hop.kind === 'delivery' ? 'Not encrypted: a hop inside the receiving site' : 'Not encrypted in transit');
  return h('li', { class: `hop hop-${hop.kind}` },
    h('div', { class: 'hop-marker', 'aria-hidden': 'true' }, String(hop.step)),
    h('div', { class: 'hop-card' },
      h('div', { class: 'hop-head' },
        h('span', { class: 'hop-kind' }, kind.label),
        h('h4', { class: 'hop-agent' }, hop.agent),
        h('time', { class: 'hop-time', datetime: hop.date ?? '' }, hop.date ? formatTime(hop.date) : 'time unknown')),
      h('p', { class: 'hop-path' },
        h('span', { class: 'host' }, from || 'unknown'),
        hop.fromAddress ? h('span', { class: 'ip' }, ` [${hop.fromAddress}]`) : null,
        h('span', { class: 'arrow', 'aria-label': 'handed to' }, ' → '),
        h('span', { class: 'host' }, hop.byHost ?? 'unknown'),
        hop.software ? h('span', { class: 'muted' }, ` (${hop.software})`) : null),
      h('div', { class: 'badges' },
        hop.protocol ? badge(hop.protocol, 'proto', PROTOCOLS[hop.protocol] ?? 'Protocol named in the Received field') : null,
        badge([icon(hop.tls ? 'lock' : 'unlock'), ` ${tlsText}`], hop.tls ? 'good' : (hop.kind === 'delivery' ? 'neutral' : 'warn'), tlsTitle),
        hop.authenticated
          ? badge([icon('check'), ` authenticated${hop.authUser ? ` as ${hop.authUser}` : ''}`], 'good', 'The client logged in (SMTP AUTH)')
          : badge('not authenticated', 'neutral', 'No login on this hop: normal between mail servers'),
        hop.id ? badge(`id ${hop.id}`, 'id', 'Queue id: find it in the agent’s logs') : null),
      h('p', { class: 'hop-explain muted small' }, kind.text),
      h('details', { class: 'raw' }, h('summary', {}, 'Received field'), h('code', {}, `Received: ${hop.raw}`))));
}

function delayRow(ms, label) {
  if (ms === undefined || ms === null) return null;
  return h('li', { class: 'delay', 'aria-label': `${label} ${formatDelay(ms)}` }, h('span', {}, icon('clock'), ms >= 1000 ? ` +${formatDelay(ms)}` : ` ${formatDelay(ms)}`));
}

function ruleHits(rules) {
  if (rules.length === 0) return h('p', { class: 'muted small' }, 'No rule hit.');
  const scored = rules.some((rule) => rule.score !== undefined);
  const described = rules.some((rule) => rule.description);
  if (!scored && !described) {
    return h('div', { class: 'badges' }, h('span', { class: 'small muted' }, 'Rules hit:'), rules.map((rule) => badge(rule.name, 'rule')));
  }
  return h('table', { class: 'rules' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Rule'), scored ? h('th', { scope: 'col' }, 'Score') : null,
      described ? h('th', { scope: 'col' }, 'Meaning') : null)),
    h('tbody', {}, rules.map((rule) => h('tr', {},
      h('td', {}, h('code', {}, rule.name)),
      scored ? h('td', { class: 'num' }, rule.score === undefined ? '' : (rule.score > 0 ? `+${rule.score}` : String(rule.score))) : null,
      described ? h('td', {}, rule.description ?? '') : null))));
}

function verdictCard(verdict) {
  const spam = verdict.spam;
  const virus = verdict.virus;
  const parts = [];
  if (spam) {
    const threshold = spam.threshold ?? 5;
    const score = spam.score ?? 0;
    const percent = Math.max(0, Math.min(100, (score / (threshold * 2)) * 100));
    parts.push(h('div', { class: 'verdict-block' },
      h('div', { class: 'verdict-title' },
        h('strong', {}, 'Spam check'),
        badge(spam.isSpam ? 'spam' : 'not spam', spam.isSpam ? 'bad' : 'good')),
      h('div', { class: 'gauge', role: 'img', 'aria-label': `score ${score} of threshold ${threshold}` },
        h('div', { class: `gauge-fill ${spam.isSpam ? 'bad' : 'good'}`, style: undefined, dataset: { width: String(percent) } }),
        h('div', { class: 'gauge-mark', title: `threshold ${threshold}` })),
      h('p', { class: 'small' }, `Score ${score} — the message is tagged as spam at ${threshold}.`),
      ruleHits(spam.rules),
      spam.checker ? h('p', { class: 'muted small' }, `Scored by ${spam.checker}`) : null));
  }
  if (virus) {
    parts.push(h('div', { class: 'verdict-block' },
      h('div', { class: 'verdict-title' },
        h('strong', {}, 'Virus check'),
        badge(virus.status === 'infected' ? `infected: ${virus.names.join(', ')}` : virus.status, virus.status === 'infected' ? 'bad' : virus.status === 'clean' ? 'good' : 'neutral')),
      virus.scanner ? h('p', { class: 'muted small' }, `Scanned by ${virus.scanner}`) : null));
  }
  const card = h('li', { class: 'hop hop-verdict' },
    h('div', { class: 'hop-marker', 'aria-hidden': 'true' }, icon('shield')),
    h('div', { class: 'hop-card' },
      h('div', { class: 'hop-head' }, h('span', { class: 'hop-kind' }, 'Content filter'), h('h4', { class: 'hop-agent' }, 'caller verdict')),
      h('p', { class: 'hop-explain muted small' }, 'The receiving MX asked the caller to scan the message before accepting it, and added its verdict as X-Spam-* and X-Virus-* fields.'),
      parts,
      h('details', { class: 'raw' }, h('summary', {}, 'Verdict fields'),
        h('code', {}, verdict.fields.map((field) => `${field.name}: ${field.value}`).join('\n')))));
  for (const fill of card.querySelectorAll('.gauge-fill')) fill.style.width = `${fill.dataset.width}%`;
  return card;
}

const METHODS = {
  spf: {
    label: 'SPF',
    asks: 'May the sending server’s address send for this domain? (RFC 7208)',
    identity: (p) => (p['smtp.mailfrom'] ? `MAIL FROM ${p['smtp.mailfrom']}` : p['smtp.helo'] ? `HELO ${p['smtp.helo']}` : ''),
  },
  dkim: {
    label: 'DKIM',
    asks: 'Does the domain’s signature still match the message? (RFC 6376)',
    identity: (p) => [p['header.d'] && `d=${p['header.d']}`, p['header.s'] && `s=${p['header.s']}`, p['header.a']].filter(Boolean).join(' '),
  },
  dmarc: {
    label: 'DMARC',
    asks: 'Did SPF or DKIM pass for the From domain itself, and what does it ask for when not? (RFC 7489)',
    identity: (p) => (p['header.from'] ? `From: ${p['header.from']}` : ''),
  },
  arc: {
    label: 'ARC',
    asks: 'Do the forwarding servers’ seals hold, vouching for what they found? (RFC 8617)',
    identity: (p) => (p['smtp.remote-ip'] ? `from ${p['smtp.remote-ip']}` : ''),
  },
};

const RESULT_KIND = { pass: 'good', fail: 'bad', softfail: 'bad', permerror: 'bad', temperror: 'warn' };

/** Why a check did not pass, in words, with the checker's own comment when it gave one. */
function reasonOf(item) {
  const p = item.properties;
  const comment = item.comment ?? p.reason;
  if (item.result === 'temperror') return `A DNS lookup failed while checking: the sender is asked to try again later.${comment ? ` (${comment})` : ''}`;
  if (item.result === 'permerror') return `The published record is broken.${comment ? ` (${comment})` : ''}`;
  if (item.method === 'dkim' && item.result === 'fail') {
    return `The signature of ${p['header.d'] ?? 'the domain'} no longer matches: the message was changed after it was signed, or the signature is forged.${comment ? ` (${comment})` : ''}`;
  }
  if (item.method === 'dmarc' && item.result === 'fail') {
    const policy = p['policy.dmarc'] ?? /\bp=(\w+)/i.exec(comment ?? '')?.[1]?.toLowerCase();
    return `Neither SPF nor DKIM passed for ${p['header.from'] ?? 'the From domain'} itself${policy ? `, and it publishes p=${policy}` : ''}.${comment ? ` (${comment})` : ''}`;
  }
  if (item.method === 'spf' && (item.result === 'fail' || item.result === 'softfail')) {
    return comment ?? 'The sending server’s address is not in the domain’s SPF record.';
  }
  return comment ?? '';
}

function authRow(item) {
  const method = METHODS[item.method];
  const kind = RESULT_KIND[item.result] ?? 'neutral';
  const reason = item.result === 'pass' ? '' : reasonOf(item);
  const identity = method?.identity(item.properties) ?? '';
  return h('li', { class: `auth-result auth-${kind}`, dataset: { method: item.method, result: item.result } },
    h('span', { class: 'auth-method', title: method?.asks ?? '' }, method?.label ?? item.method),
    badge([item.result === 'pass' ? icon('check') : null, ` ${item.result}`], kind, Object.entries(item.properties).map(([k, v]) => `${k}=${v}`).join(' ')),
    identity ? h('code', { class: 'auth-identity' }, identity) : null,
    reason ? h('p', { class: 'auth-reason small' }, reason) : null);
}

function authCard(results) {
  const placed = results.step !== undefined;
  return h('li', { class: 'hop hop-auth', dataset: { authserv: results.authservId, ...(placed ? { step: String(results.step) } : {}) } },
    h('div', { class: 'hop-marker', 'aria-hidden': 'true' }, icon('shield')),
    h('div', { class: 'hop-card' },
      h('div', { class: 'hop-head' }, h('span', { class: 'hop-kind' }, 'Sender checks'), h('h4', { class: 'hop-agent' }, `at ${results.authservId}`)),
      h('p', { class: 'hop-explain muted small' }, placed
        ? 'This server checked who sent the message before accepting it, and wrote what it found into an Authentication-Results field.'
        : 'No hop of this journey names this server: the field came with the message, and nobody here vouches for it.'),
      results.results.length
        ? h('ul', { class: 'auth-results' }, results.results.map(authRow))
        : h('p', { class: 'muted small' }, 'No checks were made.'),
      h('details', { class: 'raw' }, h('summary', {}, 'Authentication-Results field'),
        h('code', {}, `Authentication-Results: ${results.raw}`))));
}

function arcCard(seal) {
  return h('li', { class: 'hop hop-auth hop-arc', dataset: { instance: String(seal.instance), ...(seal.step !== undefined ? { step: String(seal.step) } : {}) } },
    h('div', { class: 'hop-marker', 'aria-hidden': 'true' }, icon('lock')),
    h('div', { class: 'hop-card' },
      h('div', { class: 'hop-head' }, h('span', { class: 'hop-kind' }, `ARC seal i=${seal.instance}`),
        h('h4', { class: 'hop-agent' }, `by ${seal.domain ?? 'an unnamed sealer'}${seal.authservId ? ` at ${seal.authservId}` : ''}`)),
      h('p', { class: 'hop-explain muted small' },
        'This server passed the message on and sealed it (ARC-Seal, ARC-Message-Signature), vouching for what its own checks found, so that a later server can trust a result that forwarding may have broken.',
        seal.chain ? ` Chain before it: cv=${seal.chain}.` : ''),
      seal.results.length ? h('ul', { class: 'auth-results' }, seal.results.map(authRow)) : null));
}

export function renderJourney(journey) {
  const steps = [];
  if (journey.written) {
    steps.push(h('li', { class: 'hop hop-written' },
      h('div', { class: 'hop-marker', 'aria-hidden': 'true' }, icon('drafts')),
      h('div', { class: 'hop-card' },
        h('div', { class: 'hop-head' },
          h('span', { class: 'hop-kind' }, 'Written'),
          h('h4', { class: 'hop-agent' }, journey.userAgent ?? 'the author’s mail client'),
          h('time', { class: 'hop-time', datetime: journey.written }, formatTime(journey.written))),
        h('p', { class: 'hop-explain muted small' }, `Date field: ${formatFullDate(journey.written)}`))));
  }
  for (const hop of journey.hops) {
    steps.push(delayRow(hop.delayMs, hop.step === 1 ? 'until the first hop' : 'since the previous hop'));
    steps.push(hopCard(hop));
    // What the hop checked (its Authentication-Results), then what the content filter said.
    for (const results of journey.authenticationResults) if (results.step === hop.step) steps.push(authCard(results));
    for (const seal of journey.arcSeals ?? []) if (seal.step === hop.step) steps.push(arcCard(seal));
    if (journey.verdict && journey.verdictAfterStep === hop.step) steps.push(verdictCard(journey.verdict));
  }
  if (journey.verdict && journey.verdictAfterStep === undefined) steps.push(verdictCard(journey.verdict));
  for (const results of journey.authenticationResults) if (results.step === undefined) steps.push(authCard(results));
  for (const seal of journey.arcSeals ?? []) if (seal.step === undefined) steps.push(arcCard(seal));
  if (journey.deliveredTo.length || journey.returnPath !== undefined) {
    steps.push(h('li', { class: 'hop hop-mailbox' },
      h('div', { class: 'hop-marker', 'aria-hidden': 'true' }, icon('inbox')),
      h('div', { class: 'hop-card' },
        h('div', { class: 'hop-head' }, h('span', { class: 'hop-kind' }, 'In the mailbox'),
          h('h4', { class: 'hop-agent' }, journey.deliveredTo.join(', ') || 'delivered')),
        h('p', { class: 'small' }, 'Delivered-To: ', h('code', {}, journey.deliveredTo.join(', ') || '—'), ' · Return-Path: ',
          h('code', {}, `<${journey.returnPath ?? ''}>`)),
        h('p', { class: 'hop-explain muted small' }, 'The delivery agent recorded the envelope: bounces would go to the Return-Path.'))));
  }
  if (journey.retrieval && (journey.deliveredTo.length || journey.hops.length)) {
    const r = journey.retrieval;
    steps.push(h('li', { class: 'hop hop-read' },
      h('div', { class: 'hop-marker', 'aria-hidden': 'true' }, icon('mail')),
      h('div', { class: 'hop-card' },
        h('div', { class: 'hop-head' }, h('span', { class: 'hop-kind' }, 'Reading'), h('h4', { class: 'hop-agent' }, 'this web mail, over IMAP')),
        h('p', { class: 'hop-path' }, h('span', { class: 'host' }, r.server), h('span', { class: 'ip' }, ` [${r.address}]:${r.port}`),
          h('span', { class: 'arrow', 'aria-label': 'read by' }, ' → '), h('span', { class: 'host' }, 'you')),
        h('div', { class: 'badges' }, badge(r.protocol, 'proto', 'Internet Message Access Protocol (RFC 3501)'),
          badge([icon('lock'), ` ${r.tls}`], 'good', 'Upgraded to TLS before logging in'),
          badge([icon('check'), ' logged in'], 'good')),
        h('p', { class: 'hop-explain muted small' }, r.found === 'srv'
          ? 'Found through the _imap._tcp SRV record of your domain (RFC 6186). This leg leaves no header in the message.'
          : 'Taken from the MUA_FALLBACK setting. This leg leaves no header in the message.'))));
  }
  const tlsHops = journey.hops.filter((hop) => hop.tls).length;
  const summary = h('div', { class: 'journey-summary' },
    h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, String(journey.hops.length)), h('span', { class: 'stat-label' }, journey.hops.length === 1 ? 'hop' : 'hops')),
    h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, journey.totalMs === undefined ? '—' : formatDelay(journey.totalMs)), h('span', { class: 'stat-label' }, 'written → mailbox')),
    h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, `${tlsHops}/${journey.hops.length}`), h('span', { class: 'stat-label' }, 'hops over TLS')),
    journey.senderCheck ? h('div', { class: 'stat' }, h('span', { class: `stat-value auth-${RESULT_KIND[journey.senderCheck.dmarc] ?? 'neutral'}` }, journey.senderCheck.dmarc),
      h('span', { class: 'stat-label' }, `DMARC of ${journey.senderCheck.domain ?? 'the From domain'}`)) : null,
    journey.verdict?.spam ? h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, String(journey.verdict.spam.score ?? '—')), h('span', { class: 'stat-label' }, 'spam score')) : null);
  if (journey.hops.length === 0) {
    return h('div', { class: 'journey' }, summary,
      h('p', { class: 'muted' }, 'This message has no trace fields: it never travelled (a copy saved by your client, or a draft).'));
  }
  return h('div', { class: 'journey' },
    h('h3', { class: 'journey-title' }, 'The journey of this message'),
    h('p', { class: 'muted small' }, 'Read from the message itself: every agent that handled it added a Received field on top. Oldest first.'),
    summary,
    h('ol', { class: 'timeline', 'aria-label': 'Hops, oldest first' }, steps));
}
