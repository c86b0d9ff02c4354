/**
 * @mxlab/testcontainers: the whole mail chain of mxlab for tests, in one await.
 *
 *   const lab = await new MailLab().start();
 *   await lab.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: 'hi', text: 'hello' });
 *   const message = await lab.waitForMessage({ mailbox: 'bob@beta.test', where: { subject: 'hi' } });
 *   await lab.stop();
 */
export { MailLab, DEFAULT_IMAGE, MODULE_VERSION } from './mail-lab.ts';
export { StartedMailLab, type Endpoint, type LabEndpoints, type LabUser, type ResetResult, type WaitForMessageOptions } from './started-mail-lab.ts';
export type { ChaosControl, ChaosPlan, ChaosRule, QueuedMessage, QueuedRecipient } from './admin.ts';
export type { LabMessage, Mail, MessageFilter, SentMail } from './mail.ts';
export { AGENTS, MTAS, LAB_USERS, LAB_PASSWORD, type AgentName, type MtaName, type Protocol, type TlsMode } from './world.ts';
