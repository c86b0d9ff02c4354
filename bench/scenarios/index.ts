/** The scenarios by name, for `bench/run.ts` and `bench/profile.ts`. */
import type { Scenario } from '../lib/options.ts';
import type { ScenarioResults } from '../lib/report.ts';
import type { ScenarioContext } from './context.ts';
import { runImapLoad } from './imap-load.ts';
import { runParity } from './parity.ts';
import { runLabStart } from './lab-start.ts';
import { runPop3Load } from './pop3-load.ts';
import { runScale } from './scale.ts';
import { runFlow } from './smtp-flow.ts';

export const RUNNERS: Record<Scenario, (context: ScenarioContext) => Promise<ScenarioResults[Scenario]>> = {
  ingest: (context) => runFlow(context, 'ingest'),
  submission: (context) => runFlow(context, 'submission'),
  imap: runImapLoad,
  pop3: runPop3Load,
  scale: runScale,
  parity: runParity,
  labstart: runLabStart,
};
