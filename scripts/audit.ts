/**
 * The dependency audit of CI (.ci/run): `npm audit` for the production dependencies and
 * for all of them, summarised in a few lines. It never fails the run: an advisory with no
 * fixed release is printed, not fatal, and an audit that could not be done (no registry,
 * a mirror without the audit endpoint) says so plainly instead of passing silently.
 */
import { spawn } from 'node:child_process';

interface AuditVulnerability {
  name: string;
  severity: string;
  range?: string;
  via?: (string | { title?: string; url?: string })[];
  fixAvailable?: boolean | { name: string; version: string; isSemVerMajor?: boolean };
}

interface AuditReport {
  vulnerabilities?: Record<string, AuditVulnerability>;
  metadata?: { vulnerabilities?: Record<string, number> };
  message?: string;
  error?: { summary?: string; detail?: string };
  statusCode?: number;
}

const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'] as const;

function fixText(fix: AuditVulnerability['fixAvailable']): string {
  if (fix === true) return 'fix: npm audit fix';
  if (fix && typeof fix === 'object') return `fix: ${fix.name}@${fix.version}${fix.isSemVerMajor ? ' (major)' : ''}`;
  return 'no fix released';
}

/** The lines CI prints for one `npm audit --json` output. */
export function summarizeAudit(scope: string, output: string): string[] {
  let report: AuditReport;
  try {
    report = JSON.parse(output) as AuditReport;
  } catch {
    return [`npm audit (${scope}): NOT CHECKED — npm printed no report (${output.trim().slice(0, 200) || 'no output'})`];
  }
  if (!report.vulnerabilities) {
    const why = report.message || report.error?.summary || report.error?.detail || 'no report';
    return [`npm audit (${scope}): NOT CHECKED — the registry gave no advisory data: ${why}`];
  }
  const entries = Object.values(report.vulnerabilities);
  if (entries.length === 0) return [`npm audit (${scope}): no known advisories`];
  const counts = SEVERITIES.map((severity) => [severity, entries.filter((entry) => entry.severity === severity).length] as const).filter(([, count]) => count > 0);
  const lines = [`npm audit (${scope}): ${entries.length} package(s) with advisories: ${counts.map(([severity, count]) => `${count} ${severity}`).join(', ')}`];
  for (const entry of entries.sort((a, b) => SEVERITIES.indexOf(a.severity as never) - SEVERITIES.indexOf(b.severity as never))) {
    const titles = (entry.via ?? []).map((via) => (typeof via === 'string' ? `via ${via}` : via.title ?? via.url ?? '')).filter(Boolean);
    lines.push(`  ${entry.severity.padEnd(8)} ${entry.name}${entry.range ? ` ${entry.range}` : ''}: ${titles.join('; ')} (${fixText(entry.fixAvailable)})`);
  }
  return lines;
}

function npmAudit(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['audit', '--json', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve(JSON.stringify({ message: error.message })));
    child.on('close', () => resolve(output));
  });
}

if (import.meta.main) {
  for (const [scope, args] of [['production dependencies', ['--omit=dev']], ['all dependencies', []]] as const) {
    for (const line of summarizeAudit(scope, await npmAudit([...args]))) process.stdout.write(`${line}\n`);
  }
}
