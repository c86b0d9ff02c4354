/**
 * Who may write a verdict (the content filter's `X-Spam-*`, `X-Virus-*`; the MTA's DMARC
 * quarantine note `X-Mxlab-Quarantine`) into a message (issue 19, item 4; issue 13). The
 * rule the MTA and the MDA share:
 *
 * - An MTA removes every verdict field a message arrives with (a sender can write
 *   `X-Virus-Status: Clean` as easily as anything else), then prepends its Received
 *   field and right below it what it found: its own `Authentication-Results`, its
 *   quarantine note, the caller's fields.
 * - So a verdict is only ever in the run of fields directly below the topmost Received
 *   field (verdict fields and that hop's Authentication-Results), written by the lab MTA
 *   that handed the message to the MDA. The MDA keeps that run and removes every other
 *   verdict field.
 *
 * Field names are matched case-insensitively (RFC 5322 §1.2.2); continuation lines
 * belong to their field (§2.2.3). Only the header section is touched.
 */

export function isVerdictFieldName(name: string): boolean {
  const lower = name.trim().toLowerCase();
  return lower.startsWith('x-spam-') || lower.startsWith('x-virus-') || lower === 'x-mxlab-quarantine';
}

/** Fields of the delivering hop's block that may stand between its Received and its verdict. */
const HOP_RESULT_FIELDS = new Set(['authentication-results']);

interface RawField {
  /** Lower-cased name; '' for a line that is no field (kept as it is). */
  name: string;
  text: string;
}

/** The header section's fields with their raw text (continuations included), and the rest. */
function splitHead(message: Buffer): { fields: RawField[]; body: Buffer } | undefined {
  const text = message.toString('latin1');
  const end = /\r?\n\r?\n/u.exec(text);
  // A message without a body: the whole message is header.
  const headEnd = end ? end.index + end[0].indexOf('\n') + 1 : text.length;
  const head = text.slice(0, headEnd);
  const fields: RawField[] = [];
  for (const line of head.split(/(?<=\n)/u)) {
    const last = fields[fields.length - 1];
    if (/^[ \t]/u.test(line) && last) {
      last.text += line;
      continue;
    }
    const colon = line.indexOf(':');
    fields.push({ name: colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '', text: line });
  }
  return { fields, body: message.subarray(Buffer.byteLength(head, 'latin1')) };
}

function join(fields: readonly RawField[], body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(fields.map((field) => field.text).join(''), 'latin1'), body]);
}

/** What an MTA does before it adds its own trace and verdict: no verdict field survives. */
export function withoutVerdictFields(message: Buffer): Buffer {
  const split = splitHead(message);
  if (!split || !split.fields.some((field) => isVerdictFieldName(field.name))) return message;
  return join(split.fields.filter((field) => !isVerdictFieldName(field.name)), split.body);
}

/**
 * What the MDA does: keeps the verdict written by the MTA that delivers (the run right
 * below the topmost Received field) and removes every other verdict field.
 */
export function withOnlyDeliveringVerdict(message: Buffer): Buffer {
  const split = splitHead(message);
  if (!split || !split.fields.some((field) => isVerdictFieldName(field.name))) return message;
  const { fields } = split;
  const kept = new Set<number>();
  if (fields[0]?.name === 'received') {
    for (let i = 1; i < fields.length; i += 1) {
      const name = fields[i]?.name ?? '';
      if (isVerdictFieldName(name)) kept.add(i);
      else if (!HOP_RESULT_FIELDS.has(name)) break;
    }
  }
  return join(fields.filter((field, i) => kept.has(i) || !isVerdictFieldName(field.name)), split.body);
}
