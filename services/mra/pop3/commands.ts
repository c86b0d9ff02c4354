/** The POP3 command table: every verb, the states it is valid in, and its handler. */
import { authCommands } from './auth-commands.ts';
import type { CommandSpec } from './context.ts';
import { transactionCommands } from './transaction-commands.ts';

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([...authCommands, ...transactionCommands]);
